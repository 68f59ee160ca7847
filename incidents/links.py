"""Signed links in the emails about an incident, to the portal's pages: answer a resolved
incident, stop the emails, and (for a contact without an account) follow the incident. Made
here, where the emails are written; read by the portal.

They work without a password, so they carry everything they apply to and nothing more. An
answer link names the tenant, the incident, the action and the incident's version when the mail
was written, and expires (settings.ANSWER_LINK_MAX_AGE). The version makes it single-use: the
answer itself, or any other change, moves the incident's version and retires the link. Opening
a link changes nothing (mail scanners follow links); only the button on its page does.

A follow link names the tenant, the incident and the contact's address, and shows the public
story of the incident (settings.FOLLOW_LINK_MAX_AGE; every email brings a fresh one). It works
only while the address still follows the incident (incidents.rules.is_incident_contact).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent, IncidentState
from incidents.rules import is_incident_contact
from tenancy.links import NOT_A_LINK, link_read, link_tenant

# The salts keep their first names: links already in people's mailboxes must keep working.
ANSWER_SALT = "portal.answer-link"
UNSUBSCRIBE_SALT = "portal.unsubscribe-link"
FOLLOW_SALT = "incidents.follow-link"
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


def follow_url(incident: Incident, address: str) -> str:
    """The page where a contact without an account follows the incident's public story."""
    payload = {"t": incident.tenant_id, "i": incident.pk, "e": address.lower()}
    token = signing.dumps(payload, salt=FOLLOW_SALT, compress=True)
    path = reverse(
        "portal-follow",
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
        .select_related("tenant", "priority", "resolution_code", "reporter", "group")
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
        message = f"This link has expired. {_answer_instead(incident)}"
        return incident, _refused("expired", message, link.data)
    return incident, _state_check(incident, link.data)


def _answer_instead(incident: Incident) -> str:
    """Where the reporter answers once a link no longer works: a member on the incident's page;
    a contact without an account on the page their newest email's follow link opens."""
    if incident.reporter_id is None:
        return (
            f"Open {incident.reference} from the link in our latest email about it and answer "
            "there."
        )
    return f"Log in and answer on the page of {incident.reference}."


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
        f"{ref} has changed since this email was sent, so its links no longer work. "
        f"{_answer_instead(incident)}",
        payload,
    )


def _answer_after(incident: Incident, version: int) -> IncidentEvent | None:
    """The reporter's close or reopen that directly followed the version the link was sent at
    (a contact without an account answers as a contact: only they can, by this link)."""
    if incident.reporter_id is not None:
        by_reporter = Q(actor_user_id=incident.reporter_id)
    elif incident.contact_email:
        by_reporter = Q(actor_kind="contact")
    else:
        return None
    return (
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(
            by_reporter,
            incident=incident,
            incident_version=version + 1,
            kind=EventKind.TRANSITION,
            transition__in=("close", "reopen"),
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


@dataclass(frozen=True)
class FollowLink:
    """Whose follow link it is; `problem` is empty while it works."""

    address: str
    problem: str = ""
    message: str = ""

    @property
    def usable(self) -> bool:
        return not self.problem

    @property
    def expired(self) -> bool:
        return self.problem == "expired"


def follow_link_read(token: str, *, tenant_slug: str, number: int) -> tuple[Incident, FollowLink]:
    """The incident of a genuine follow link and whether the link works now; Http404 for a link
    that is damaged, of another kind, or made for another incident or tenant."""
    link = link_read(token, salt=FOLLOW_SALT, max_age=settings.FOLLOW_LINK_MAX_AGE)
    address = link.data.get("e")
    if not address or not isinstance(address, str):
        raise Http404(NOT_A_LINK)
    incident = _linked_incident(tenant_slug, number, link.data)
    if link.expired:
        days = max(round(settings.FOLLOW_LINK_MAX_AGE / 86400), 1)
        return incident, FollowLink(
            address,
            "expired",
            f"This link has expired: links to follow an incident last {days} days. Use the link "
            f"in our latest email about {incident.reference}, or reply to that email.",
        )
    if not is_incident_contact(incident, address):
        return incident, FollowLink(
            address,
            "not_following",
            f"{address} no longer follows {incident.reference}, so this link no longer works. "
            "Reply to our latest email about it if you need the service desk.",
        )
    return incident, FollowLink(address)
