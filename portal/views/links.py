"""Pages behind the signed links in emails; they need no password: answer a resolution, stop
the emails, and follow an incident (for a contact without an account, read-only).

Opening one (GET) only shows a page: mail scanners follow links, so only the button (POST)
acts. The link is checked again on POST, and the service checks the incident's version. The
token is verified before anything is read (incidents/links.py), so a link that is not genuine, or
names another incident or tenant, is the plain 404 of a page that does not exist.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from incidents.links import (
    AnswerLink,
    FollowLink,
    answer_link_read,
    answer_url,
    follow_link_read,
    unsubscribe_link_read,
    unsubscribe_url,
)
from incidents.models import Incident, IncidentState
from incidents.rules import is_reporter
from incidents.selectors import attachments_visible_to
from portal.forms import BrokenForm, FixedForm
from portal.selectors import public_timeline, state_in_words
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
    """Who answers through the link: the reporter, or the contact it was reported for."""
    if incident.reporter_id is None:
        if not incident.contact_email:
            return None
        return Actor.contact(
            incident.tenant, name=incident.contact_name, email=incident.contact_email
        )
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


def _follower(incident: Incident, link: FollowLink) -> Actor:
    """The contact a follow link was sent to, acting as someone without an account."""
    name = incident.contact_name if link.address == incident.contact_email.lower() else ""
    return Actor.contact(incident.tenant, name=name, email=link.address)


@tenant_public
@require_GET
def follow_link(request: HttpRequest, tenant_slug: str, number: int, token: str) -> HttpResponse:
    """The public story of an incident for a contact without an account: read-only; while it is
    resolved, its reporter gets the fixed / still broken links (whose pages have the buttons)."""
    incident, link = follow_link_read(token, tenant_slug=tenant_slug, number=number)
    context: dict[str, Any] = {"incident": incident, "link": link, "link_tenant": incident.tenant}
    if not link.usable:
        return render(request, "portal/follow_link.html", context, status=GONE)
    context |= {
        "timeline": public_timeline(incident=incident, viewer=None, viewer_email=link.address),
        "poll_url": request.path,  # the timeline refreshes through this same link
        "files_url": f"{request.path}files/",
    }
    if request.headers.get("HX-Request"):
        return render(request, "portal/_timeline.html", context)
    contact = _follower(incident, link)
    if incident.state == IncidentState.RESOLVED and is_reporter(contact, incident):
        context["fixed_url"] = answer_url(incident, "fixed")
        context["broken_url"] = answer_url(incident, "broken")
    context |= {
        "state_words": state_in_words(incident),
        "unsubscribe_url": unsubscribe_url(incident, link.address),
    }
    return render(request, "portal/follow_link.html", context)


@tenant_public
@require_GET
def follow_link_file(
    request: HttpRequest, tenant_slug: str, number: int, token: str, attachment_id: int
) -> HttpResponse | FileResponse:
    """A public file of the incident a follow link shows; any other file is a 404."""
    incident, link = follow_link_read(token, tenant_slug=tenant_slug, number=number)
    if not link.usable:
        context = {"incident": incident, "link": link, "link_tenant": incident.tenant}
        return render(request, "portal/follow_link.html", context, status=GONE)
    files = attachments_visible_to(
        actor=_follower(incident, link), incident=incident, public_only=True
    )
    attachment = get_object_or_404(files, pk=attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
