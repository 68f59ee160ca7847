"""Following one incident: the page, its live timeline, replies, files, and the answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Incident, IncidentState
from incidents.selectors import attachments_visible_to
from incidents.services import comment_add
from portal.forms import IMPACT_CHOICES, URGENCY_CHOICES, BrokenForm, CommentForm, FixedForm
from portal.selectors import public_timeline, state_in_words
from portal.services import incident_answer, incident_emails_set
from portal.views.common import TenantRequest, replace_value, requester_incident
from tenancy.errors import Refusal
from tenancy.forms import show_refusal

ANSWER_FORMS = {"fixed": FixedForm, "broken": BrokenForm}


def _page(request: TenantRequest, incident: Incident, **forms: Any) -> HttpResponse:
    answer_forms = {
        action: forms.get(action)
        or form_class(prefix=action, initial={"version": incident.version})
        for action, form_class in ANSWER_FORMS.items()
    }
    bound = [f for f in (forms.get("comment"), *answer_forms.values()) if f is not None]
    is_reporter = incident.reporter_id == request.user.pk
    # Which forms the page offers: the template draws them, _unsent gives back the rest.
    offered = {
        "fixed": incident.state == IncidentState.RESOLVED and is_reporter,
        "broken": incident.state == IncidentState.RESOLVED and is_reporter,
        "comment": not incident.is_final,
    }
    context = {
        "incident": incident,
        # Refusals that name no field (wrong state, not the reporter) show above everything.
        "refusals": [e for f in bound for e in f.non_field_errors()],
        "unsent": _unsent(offered, forms),
        "offered": offered,
        "state_words": state_in_words(incident),
        "timeline": public_timeline(
            incident=incident, viewer=request.user, newest_first=_newest_first(request)
        ),
        "newest_first": _newest_first(request),
        "is_reporter": is_reporter,
        "comment_form": forms.get("comment") or CommentForm(),
        "files_lost": forms.get("files_lost", False),
        "fixed_form": answer_forms["fixed"],
        "broken_form": answer_forms["broken"],
    }
    return render(request, "portal/incident_detail.html", context)


# The text field of each form the page may refuse.
_TEXT_FIELDS = (("fixed", "comment"), ("broken", "reason"), ("comment", "body"))


def _unsent(offered: dict[str, bool], forms: dict[str, Any]) -> list[str]:
    """What the person typed into a refused form that the page no longer offers (the incident
    moved on meanwhile): shown as it was, to copy, rather than lost."""
    texts = []
    for action, field in _TEXT_FIELDS:
        form = forms.get(action)
        if form is not None and form.is_bound and not offered[action]:
            text = (form.data.get(form.add_prefix(field)) or "").strip()
            if text:
                texts.append(text)
    return texts


@require_GET
def incident_detail(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    return _page(request, requester_incident(request, number))


@require_GET
def incident_timeline(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = requester_incident(request, number)
    newest_first = _newest_first(request)
    timeline = public_timeline(incident=incident, viewer=request.user, newest_first=newest_first)
    context = {"incident": incident, "timeline": timeline, "newest_first": newest_first}
    return render(request, "portal/_timeline.html", context)


def _newest_first(request: TenantRequest) -> bool:
    """The reader's choice of order, kept in the URL (?order=newest)."""
    return request.GET.get("order") == "newest"


@require_GET
def incident_reported(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """The confirmation right after reporting: the number, the priority, what happens next."""
    incident = requester_incident(request, number)
    context = {
        "incident": incident,
        "impact_words": dict(IMPACT_CHOICES)[incident.impact],
        "urgency_words": dict(URGENCY_CHOICES)[incident.urgency],
    }
    return render(request, "portal/incident_reported.html", context)


@require_POST
def incident_comment(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = requester_incident(request, number)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            comment_add(
                incident=incident,
                actor=request.actor,
                body=form.cleaned_data["body"],
                files=form.cleaned_data["attachments"],
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Your message was added.")
            return redirect("portal-incident-detail", tenant_slug, number)
    files_lost = bool(request.FILES.getlist("attachments"))
    return _page(request, incident, comment=form, files_lost=files_lost)


def _answer(request: TenantRequest, number: int, action: str) -> HttpResponse:
    incident = requester_incident(request, number)
    form = ANSWER_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_answer(
                incident=incident,
                actor=request.actor,
                action=action,
                expected_version=data["version"],
                rating=data.get("rating"),
                comment=data.get("comment", ""),
                reason=data.get("reason", ""),
            )
        except Refusal as exc:
            show_refusal(form, exc)
            incident = requester_incident(request, number)  # the page shows it as it is now
            replace_value(form, "version", incident.version)
        else:
            messages.success(request, _answered(incident))
            return redirect("portal-incident-detail", request.tenant.slug, number)
    return _page(request, incident, **{action: form})


def _answered(incident: Incident) -> str:
    if incident.state == IncidentState.CLOSED:
        return f"Thank you. {incident.reference} is closed."
    return f"{incident.reference} is reopened; the team has your reason and will look again."


@require_POST
def incident_fixed(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    return _answer(request, number, "fixed")


@require_POST
def incident_broken(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    return _answer(request, number, "broken")


@require_POST
def incident_emails(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = requester_incident(request, number)
    muted = request.POST.get("muted") == "1"
    incident_emails_set(incident=incident, address=request.user.email, muted=muted)
    if muted:
        messages.success(request, f"You will no longer get emails about {incident.reference}.")
    else:
        messages.success(request, f"You will get emails about {incident.reference} again.")
    return redirect("portal-incident-detail", tenant_slug, number)


@require_GET
def attachment_download(
    request: TenantRequest, tenant_slug: str, number: int, attachment_id: int
) -> FileResponse:
    """Only public files of a visible incident; an internal one is a 404 like a missing one."""
    incident = requester_incident(request, number)
    # As a requester sees files, whatever the role: the portal is the reporter's view.
    files = attachments_visible_to(actor=request.actor, incident=incident, public_only=True)
    attachment = get_object_or_404(files, pk=attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
