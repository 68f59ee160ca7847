"""Pages behind the signed links in emails; they need no password.

Opening one (GET) only shows a page: mail scanners follow links, so only the button (POST)
acts. The link is checked again on POST, and the service checks the incident's version. The
token is verified before anything is read (incidents/links.py), so a link that is not genuine, or
names another incident or tenant, is the plain 404 of a page that does not exist.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from incidents.links import AnswerLink, answer_link_read, unsubscribe_link_read
from incidents.models import Incident
from portal.forms import BrokenForm, FixedForm
from portal.services import incident_answer, incident_emails_set
from tenancy.actors import Actor
from tenancy.decorators import tenant_public
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.models import Membership

# A genuine link that no longer works is gone; any other link is a plain 404 before this.
GONE = 410


def _answer_form(link: AnswerLink, data=None) -> forms.Form:
    form = (FixedForm if link.action == "fixed" else BrokenForm)(data)
    del form.fields["version"]  # the link carries the version the answer applies to
    return form


def _reporter_actor(incident: Incident) -> Actor | None:
    membership = (
        Membership.objects.for_tenant(incident.tenant)
        .select_related("tenant", "user")
        .filter(user_id=incident.reporter_id, is_active=True, user__is_active=True)
        .first()
    )
    return Actor.member(membership) if membership else None


@tenant_public
@require_http_methods(["GET", "POST"])
def answer_link(request: HttpRequest, tenant_slug: str, number: int, token: str) -> HttpResponse:
    incident, link = answer_link_read(token, tenant_slug=tenant_slug, number=number)
    context: dict[str, Any] = {"incident": incident, "link": link, "link_tenant": incident.tenant}
    if not link.usable:
        return render(request, "portal/answer_link.html", context, status=GONE)
    form = _answer_form(link, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        actor = _reporter_actor(incident)
        try:
            if actor is None:
                raise Refusal("Your account here is no longer active; ask the desk.")
            incident = incident_answer(
                incident=incident,
                actor=actor,
                action=link.action,
                expected_version=link.version,
                rating=form.cleaned_data.get("rating"),
                comment=form.cleaned_data.get("comment", ""),
                reason=form.cleaned_data.get("reason", ""),
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            return render(request, "portal/answer_link.html", {**context, "done": incident})
    return render(request, "portal/answer_link.html", {**context, "form": form})


@tenant_public
@require_http_methods(["GET", "POST"])
def unsubscribe_link(
    request: HttpRequest, tenant_slug: str, number: int, token: str
) -> HttpResponse:
    incident, address = unsubscribe_link_read(token, tenant_slug=tenant_slug, number=number)
    context: dict[str, Any] = {
        "incident": incident,
        "address": address,
        "link_tenant": incident.tenant,
    }
    if request.method == "POST":
        muted = request.POST.get("muted") == "1"
        incident_emails_set(incident=incident, address=address, muted=muted)
        context["changed"] = True
    context["muted"] = incident.mutes.filter(tenant=incident.tenant, address=address).exists()
    return render(request, "portal/unsubscribe.html", context)
