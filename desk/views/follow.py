"""Following an incident from its desk page: the Follow / Following button (htmx or a plain
post), and the timeline's order, kept in the URL (?order=newest)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from escalation.selectors.told import watchers_of
from escalation.services.following import incident_unwatch, incident_watch
from incidents.models import Incident
from incidents.selectors import incident_for_actor
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.http import TenantRequest

NEWEST = "newest"


def newest_first(request: HttpRequest) -> bool:
    return request.GET.get("order") == NEWEST


def order_query(request: HttpRequest) -> str:
    """The query that keeps the reader's order on the next page ("" for the usual one)."""
    return f"?order={NEWEST}" if newest_first(request) else ""


def follow_context(request: TenantRequest, incident: Incident) -> dict:
    followers = watchers_of(incident)
    return {
        "incident": incident,
        "followers": followers,
        "following": any(u.pk == request.user.pk for u in followers),
        "order_query": order_query(request),
    }


@require_POST
@staff_required
def follow(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = incident_for_actor(actor=request.actor, number=number)
    start = request.POST.get("follow") == "1"
    try:
        if start:
            incident_watch(incident=incident, actor=request.actor)
        else:
            incident_unwatch(incident=incident, actor=request.actor)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        if request.headers.get("HX-Request") != "true":
            done = "You follow" if start else "You no longer follow"
            messages.success(request, f"{done} {incident.reference}.")
    if request.headers.get("HX-Request") == "true":
        return render(request, "desk/_follow.html", follow_context(request, incident))
    url = reverse("desk-incident-detail", kwargs={"tenant_slug": tenant_slug, "number": number})
    return redirect(url + order_query(request))
