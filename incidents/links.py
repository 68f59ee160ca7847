"""Signed links in the emails about an incident, to the portal's pages: answer a resolved
incident, and stop the emails. Made here, where the emails are written; read by the portal.

They work without a password, so they carry everything they apply to and nothing more. An
answer link names the tenant, the incident, the action and the incident's version when the mail
was written, and expires (settings.ANSWER_LINK_MAX_AGE). The version makes it single-use: the
answer itself, or any other change, moves the incident's version and retires the link. Opening
a link changes nothing (mail scanners follow links); only the button on its page does.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent, IncidentState
from tenancy.links import NOT_A_LINK, link_read, link_tenant

# The salts keep their first names: links already in people's mailboxes must keep working.
ANSWER_SALT = "portal.answer-link"
UNSUBSCRIBE_SALT = "portal.unsubscribe-link"
ANSWERS = ("fixed", "broken")


def answer_url(incident: Incident, action: str) -> str:
    assert action in ANSWERS
    payload = {"t": incident.tenant_id, "i": incident.pk, "a": action, "v": incident.version}
    token = signing.dumps(payload, salt=ANSWER_SALT, compress=True)
    path = reverse(
        "portal-answer",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number, "token": token},
    )
    return settings.SITE_URL + path


def unsubscribe_url(incident: Incident, address: str) -> str:
    payload = {"t": incident.tenant_id, "i": incident.pk, "e": address.lower()}
    token = signing.dumps(payload, salt=UNSUBSCRIBE_SALT, compress=True)
    path = reverse(
        "portal-unsubscribe",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number, "token": token},
    )
    return settings.SITE_URL + path


@dataclass(frozen=True)
class AnswerLink:
    """What an answer link allows; `problem` is empty when it may be used now."""

    action: str = ""
    version: int = 0
    problem: str = ""
    message: str = ""

    @property
    def usable(self) -> bool:
        return not self.problem


def _refused(problem: str, message: str, payload: dict) -> AnswerLink:
    return AnswerLink(
        action=payload.get("a", ""), version=payload.get("v", 0), problem=problem, message=message
    )


def _linked_incident(tenant_slug: str, number: int, payload: dict) -> Incident:
    """The incident a genuine link names, if it is the URL's; Http404 for anything else."""
    tenant = link_tenant(tenant_slug, payload.get("t"))
    incident = (
        Incident.objects.for_tenant(tenant)
        .select_related("tenant", "priority", "resolution_code", "reporter")
        .filter(pk=payload.get("i"), number=number)
        .first()
    )
    if incident is None:
        raise Http404(NOT_A_LINK)
    return incident


def answer_link_read(token: str, *, tenant_slug: str, number: int) -> tuple[Incident, AnswerLink]:
    """The incident of a genuine answer link and what the link allows now; Http404 for a link
    that is damaged, of another kind, or made for another incident or tenant."""
    link = link_read(token, salt=ANSWER_SALT, max_age=settings.ANSWER_LINK_MAX_AGE)
    if link.data.get("a") not in ANSWERS or not isinstance(link.data.get("v"), int):
        raise Http404(NOT_A_LINK)
    incident = _linked_incident(tenant_slug, number, link.data)
    if link.expired:
        message = f"This link has expired. Log in and answer on the page of {incident.reference}."
        return incident, _refused("expired", message, link.data)
    return incident, _state_check(incident, link.data)


def _state_check(incident: Incident, payload: dict) -> AnswerLink:
    ref, version = incident.reference, payload["v"]
    if incident.version == version and incident.state == IncidentState.RESOLVED:
        return AnswerLink(action=payload["a"], version=version)
    answer = _answer_after(incident, version)
    if answer is not None:
        when = timezone.localtime(answer.created_at).strftime("%d %b %Y at %H:%M")
        done = "closed" if answer.transition == "close" else "reopened"
        return _refused(
            "used", f"This link has already been used: {ref} was {done} on {when}.", payload
        )
    if incident.state != IncidentState.RESOLVED:
        return _refused(
            "not_resolved",
            f"{ref} is {incident.get_state_display().lower()} now, not waiting for your answer, "
            "so this link no longer applies.",
            payload,
        )
    return _refused(
        "changed",
        f"{ref} has changed since this email was sent, so its links no longer work. Log in and "
        "answer on the incident's page.",
        payload,
    )


def _answer_after(incident: Incident, version: int) -> IncidentEvent | None:
    """The reporter's close or reopen that directly followed the version the link was sent at."""
    if incident.reporter_id is None:
        return None
    return (
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(
            incident=incident,
            incident_version=version + 1,
            kind=EventKind.TRANSITION,
            transition__in=("close", "reopen"),
            actor_user_id=incident.reporter_id,
        )
        .first()
    )


def unsubscribe_link_read(token: str, *, tenant_slug: str, number: int) -> tuple[Incident, str]:
    """The incident and address of a genuine unsubscribe link (they never expire: stopping
    mail must always work); Http404 for any other link."""
    link = link_read(token, salt=UNSUBSCRIBE_SALT, max_age=None)
    address = link.data.get("e")
    if not address or not isinstance(address, str):
        raise Http404(NOT_A_LINK)
    return _linked_incident(tenant_slug, number, link.data), address
