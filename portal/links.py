"""Signed links in the portal's emails: answer a resolved incident, and stop the emails.

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
from django.urls import reverse
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent, IncidentState

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


def _refused(problem: str, message: str, payload: dict | None = None) -> AnswerLink:
    payload = payload or {}
    return AnswerLink(
        action=payload.get("a", ""), version=payload.get("v", 0), problem=problem, message=message
    )


def answer_link_check(token: str, incident: Incident) -> AnswerLink:
    """Read an answer link for `incident` (already fetched inside the URL's tenant)."""
    ref = incident.reference
    try:
        payload = signing.loads(token, salt=ANSWER_SALT, max_age=settings.ANSWER_LINK_MAX_AGE)
    except signing.SignatureExpired:
        return _refused(
            "expired",
            f"This link has expired. Log in and answer on the page of {ref} instead.",
        )
    except signing.BadSignature:
        return _refused(
            "tampered",
            "This link is damaged or was not made by this service desk. Copy the whole link "
            "from the email, or log in and open the incident from My incidents.",
        )
    if payload.get("t") != incident.tenant_id or payload.get("i") != incident.pk:
        return _refused("wrong_incident", f"This link belongs to another incident, not {ref}.")
    if payload.get("a") not in ANSWERS:
        return _refused("tampered", "This link does not ask anything we understand.")
    return _state_check(incident, payload)


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


def unsubscribe_address(token: str, incident: Incident) -> str | None:
    """The address an unsubscribe link was made for, or None if it is not for this incident."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    if payload.get("t") != incident.tenant_id or payload.get("i") != incident.pk:
        return None
    return payload.get("e") or None
