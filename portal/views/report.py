"""Reporting: the form, similar incidents while typing, joining one, and My incidents."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident
from incidents.selectors import incidents_reported_or_joined
from incidents.services import incident_join as join_service
from knowledge.selectors import articles_suggested
from portal.forms import ReportForm
from portal.selectors import my_incidents as my_incidents_query
from portal.selectors import similar_open_incidents
from portal.services import AlreadySubmitted, portal_report
from portal.views.common import TenantRequest, new_token, replace_value
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.inputs import query_text

SHOWS = {"open": "Open", "closed": "Closed", "all": "All"}
PAGE_SIZE = 25


@require_http_methods(["GET", "POST"])
def report(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    similar_url = reverse("portal-similar", args=[tenant_slug])
    if request.method == "GET":
        form = ReportForm(
            tenant=request.tenant, similar_url=similar_url, initial={"form_token": new_token()}
        )
        return render(request, "portal/report.html", {"form": form})
    form = ReportForm(request.POST, request.FILES, tenant=request.tenant, similar_url=similar_url)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident, _first_time = portal_report(
                actor=request.actor,
                token=data["form_token"],
                title=data["title"],
                description=data["description"],
                impact=data["impact"],
                urgency=data["urgency"],
                category=data["category"],
                files=data["attachments"],
            )
        except AlreadySubmitted as exc:
            replace_value(form, "form_token", new_token())
            show_refusal(form, exc)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            # A resubmitted form lands here too, on the first submit's confirmation.
            return redirect("portal-incident-reported", tenant_slug, incident.number)
    files_lost = bool(request.FILES.getlist("attachments"))
    return render(request, "portal/report.html", {"form": form, "files_lost": files_lost})


@require_GET
def similar(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    title = query_text(request.GET.get("title", ""))
    incidents = similar_open_incidents(tenant=request.tenant, text=title)
    articles = articles_suggested(tenant=request.tenant, text=title)
    followed = set(
        incidents_reported_or_joined(tenant=request.tenant, user=request.user)
        .filter(pk__in=[i.pk for i in incidents])
        .values_list("pk", flat=True)
    )
    context = {"incidents": incidents, "followed": followed, "articles": articles, "title": title}
    return render(request, "portal/_similar.html", context)


@require_POST
def incident_join(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.for_tenant(request.tenant), number=number)
    try:
        joined = join_service(incident=incident, actor=request.actor, user=request.user)
    except Refusal as exc:
        messages.error(request, exc.message)
        return redirect("portal-report", tenant_slug)
    if joined:
        messages.success(
            request,
            f"You are now following {incident.reference}. We will email you as it progresses.",
        )
    else:
        messages.info(request, f"You already follow {incident.reference}.")
    return redirect("portal-incident-detail", tenant_slug, incident.number)


@require_GET
def my_incidents(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    show = request.GET.get("show", "open")
    if show not in SHOWS:
        show = "open"
    incidents = my_incidents_query(tenant=request.tenant, user=request.user, show=show)
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/my_incidents.html", {"page": page, "show": show, "shows": SHOWS})
