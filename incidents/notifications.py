"""Emails to the people an incident affects, through the notifications outbox.

Each kind has a template pair templates/incidents/email/<kind>_subject.txt and <kind>.txt.
Called inside the service's transaction, so the rows commit (or vanish) with the change.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from escalation.services import notification_enqueue
from incidents.models import Incident, Participant


def incident_url(incident: Incident) -> str:
    path = reverse(
        "portal-incident-detail",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number},
    )
    return settings.SITE_URL + path


def people_to_notify(incident: Incident) -> list[tuple[object, str]]:
    """(user or None, address) for the reporter or contact, then affected users, once each."""
    people: list[tuple[object, str]] = []
    if incident.reporter_id and incident.reporter.is_active:
        people.append((incident.reporter, incident.reporter.email))
    elif incident.contact_email:
        people.append((None, incident.contact_email))
    participants = Participant.objects.for_tenant(incident.tenant_id).filter(
        incident=incident, user__is_active=True
    )
    for participant in participants.select_related("user"):
        people.append((participant.user, participant.user.email))
    seen: set[str] = set()
    unique = []
    for user, address in people:
        if address.lower() not in seen:
            seen.add(address.lower())
            unique.append((user, address))
    return unique


def notify_incident_people(
    incident: Incident, kind: str, *, extra: dict | None = None, reporter_only: bool = False
) -> int:
    people = people_to_notify(incident)
    if reporter_only:
        people = people[:1]
    for user, address in people:
        context = {
            "incident": incident,
            "tenant": incident.tenant,
            "recipient": user,
            "url": incident_url(incident),
            **(extra or {}),
        }
        subject = render_to_string(f"incidents/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"incidents/email/{kind}.txt", context)
        notification_enqueue(
            tenant=incident.tenant,
            incident=incident,
            recipient=user,
            kind=kind,
            address=address,
            subject=" ".join(subject.split()),
            body=body,
        )
    return len(people)
