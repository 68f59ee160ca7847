"""Affected users: people who join an incident they did not report."""

from __future__ import annotations

from django.db import transaction

from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EventKind, Incident, Participant
from incidents.services.common import check_member, lock_incident, record_event, save_incident
from tenancy.actors import Actor
from tenancy.models import User


def _check_joiner(actor: Actor, user: User) -> None:
    if actor.is_requester and actor.user_id != user.pk:
        raise NotAllowed("You can only add yourself to an incident.")
    check_member(actor, user, field="user")


@transaction.atomic
def incident_join(
    *, incident: Incident, actor: Actor, user: User, via: Incident | None = None
) -> bool:
    """Add `user` as affected; returns False when they already follow it (reporter included).

    `via` is the duplicate whose people move here when it is cancelled.
    """
    _check_joiner(actor, user)
    locked = lock_incident(incident, actor=actor, expected_version=None)
    if not locked.is_open and via is None:
        raise InvalidInput(f"{locked.reference} is no longer open; report a new incident.")
    if locked.reporter_id == user.pk:
        return False
    _, created = Participant.objects.get_or_create(
        tenant_id=locked.tenant_id, incident=locked, user=user
    )
    if not created:
        return False
    # The row is locked, so counting in Python is safe; saving moves the version like any write.
    locked.affected_count += 1
    save_incident(locked, ["affected_count"])
    record_event(
        locked,
        actor=actor,
        kind=EventKind.JOINED,
        data={"user": user.email, "via": via.reference if via else None},
        reason=f"{user.display_name} is affected too",
    )
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return True
