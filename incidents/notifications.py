"""Emails to the people an incident affects, through the notifications outbox.

Each kind has a template pair templates/incidents/email/<kind>_subject.txt and <kind>.txt:
acknowledgement, escalated, work_started, reply, awaiting_you, resolved, closed, cancelled.
Called inside the service's transaction, and queued through tenancy.hooks.mail_queued (the outbox
is escalation's), so the rows commit (or vanish) with the change. Every email carries a signed
link that stops emails about its incident for its recipient (IncidentMute).

A contact without an account (the contact an incident was reported for, or an affected contact,
IncidentContact) cannot open the portal: their emails link to a signed page that follows the
incident (incidents/links.py: follow_url) wherever a member's link to its portal page.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from incidents.links import answer_url, follow_url, unsubscribe_url
from incidents.models import Incident, IncidentContact, IncidentMute, Participant
from incidents.numbering import when_numbered
from tenancy.hooks import mail_queued
from tenancy.models import User


def incident_url(incident: Incident) -> str:
    path = reverse(
        "portal-incident-detail",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number},
    )
    return settings.SITE_URL + path


def people_to_notify(incident: Incident, *, new: bool = False) -> list[tuple[User | None, str]]:
    """(user or None, address) for the reporter or contact, then affected users, then affected
    contacts (None: no account), once each, leaving out the addresses that stopped emails about
    this incident.

    `new`: reported in this transaction, so nobody else has joined it or stopped its emails."""
    people: list[tuple[User | None, str]] = []
    if incident.reporter_id and incident.reporter.is_active:
        people.append((incident.reporter, incident.reporter.email))
    elif incident.contact_email:
        people.append((None, incident.contact_email))
    if new:
        return people
    participants = Participant.objects.for_tenant(incident.tenant_id).filter(
        incident=incident, user__is_active=True
    )
    for participant in participants.select_related("user"):
        people.append((participant.user, participant.user.email))
    contacts = IncidentContact.objects.for_tenant(incident.tenant_id).filter(incident=incident)
    for address in contacts.order_by("id").values_list("email", flat=True):
        people.append((None, address))
    muted = set(
        IncidentMute.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident)
        .values_list("address", flat=True)
    )
    seen: set[str] = set(muted)
    unique = []
    for user, address in people:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append((user, address))
    return unique


def _context(
    incident: Incident, user: User | None, address: str, answer_links: bool
) -> dict[str, Any]:
    # Someone without an account (user None) follows by a signed link, not the portal's page.
    context: dict[str, Any] = {
        "incident": incident,
        "tenant": incident.tenant,
        "recipient": user,
        "is_contact": user is None,
        "url": incident_url(incident) if user is not None else follow_url(incident, address),
        "unsubscribe_url": unsubscribe_url(incident, address),
    }
    # Only the reporter may confirm or reopen, so only their copy carries the answer links.
    if answer_links and _is_reporters_copy(incident, user, address):
        context["fixed_url"] = answer_url(incident, "fixed")
        context["broken_url"] = answer_url(incident, "broken")
    # A duplicate's mail names the incident to follow instead, by the link this person can open.
    original = incident.duplicate_of if incident.duplicate_of_id is not None else None
    if original is not None:
        context["original"] = original
        context["original_url"] = (
            incident_url(original) if user is not None else follow_url(original, address)
        )
    return context


def _is_reporters_copy(incident: Incident, user: User | None, address: str) -> bool:
    if user is not None:
        return user.pk == incident.reporter_id
    contact = (incident.contact_email or "").lower()
    return incident.reporter_id is None and bool(contact) and address.lower() == contact


def notify_incident_people(
    incident: Incident,
    kind: str,
    *,
    extra: dict | None = None,
    reporter_only: bool = False,
    answer_links: bool = False,
    new: bool = False,
) -> int:
    if incident.number is None:  # a report still to be numbered: written once it is
        when_numbered(
            incident,
            lambda: notify_incident_people(
                incident,
                kind,
                extra=extra,
                reporter_only=reporter_only,
                answer_links=answer_links,
                new=new,
            ),
        )
        return 0
    people = people_to_notify(incident, new=new)
    if reporter_only:
        own = incident.reporter.email if incident.reporter_id else incident.contact_email
        people = [(u, a) for u, a in people if a.lower() == (own or "").lower()]
    for user, address in people:
        context = {**_context(incident, user, address, answer_links), **(extra or {})}
        subject = render_to_string(f"incidents/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"incidents/email/{kind}.txt", context)
        mail_queued.send(
            tenant=incident.tenant,
            incident=incident,
            recipient=user,
            kind=kind,
            address=address,
            subject=" ".join(subject.split()),
            body=body,
        )
    return len(people)
