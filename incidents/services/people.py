"""Affected users: people who join an incident they did not report."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from incidents.errors import InvalidInput
from incidents.models import EventKind, Incident, Participant
from incidents.services.common import record_event
from tenancy.actors import Actor
from tenancy.models import User


@transaction.atomic
def incident_join(
    *, incident: Incident, actor: Actor, user: User, via: Incident | None = None
) -> bool:
    """Add `user` as affected; returns False when they already follow it (reporter included)."""
    if not incident.is_open and via is None:
        raise InvalidInput(f"{incident.reference} is no longer open; report a new incident.")
    if incident.reporter_id == user.pk:
        return False
    _, created = Participant.objects.get_or_create(
        tenant_id=incident.tenant_id, incident=incident, user=user
    )
    if not created:
        return False
    Incident.objects.filter(pk=incident.pk).update(affected_count=F("affected_count") + 1)
    # Not refresh_from_db(fields=...): django-fsm's mixin re-reads a deferred state and loops.
    incident.affected_count = (
        Incident.objects.filter(pk=incident.pk).values_list("affected_count", flat=True).get()
    )
    record_event(
        incident,
        actor=actor,
        kind=EventKind.JOINED,
        data={"user": user.email, "via": via.reference if via else None},
        reason=f"{user.display_name} is affected too",
    )
    return True
