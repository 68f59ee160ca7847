"""Affected users: people who join an incident they did not report."""

from __future__ import annotations

from django.db import transaction

from incidents.models import EventKind, Incident, IncidentEvent, Participant
from incidents.services.common import check_member, event_row, lock_incident, save_incident
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import User


def _check_joiner(actor: Actor, user: User) -> None:
    if actor.is_requester and actor.user_id != user.pk:
        raise NotAllowed("You can only add yourself to an incident.")
    check_member(actor, user, field="user")


@transaction.atomic
def incident_join(*, incident: Incident, actor: Actor, user: User) -> bool:
    """Add `user` as affected; returns False when they already follow it (reporter included)."""
    _check_joiner(actor, user)
    locked = lock_incident(incident, actor=actor, expected_version=None)
    if not locked.is_open:
        raise InvalidInput(f"{locked.reference} is no longer open; report a new incident.")
    joined = _join(locked, actor, [user], None)
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return joined == 1


@transaction.atomic
def incident_join_all(*, incident: Incident, actor: Actor, users: list[User], via: Incident) -> int:
    """The people of a cancelled duplicate (`via`), already checked to be active members, join
    the original: one lock and one write of it however many they are. Returns how many joined."""
    locked = lock_incident(incident, actor=actor, expected_version=None)
    joined = _join(locked, actor, users, via)
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return joined


def _join(locked: Incident, actor: Actor, users: list[User], via: Incident | None) -> int:
    """Add those of `users` not following the locked incident yet, each with a `joined` event."""
    following = set(
        Participant.objects.for_tenant(locked.tenant_id)
        .filter(incident=locked, user__in=users)
        .values_list("user_id", flat=True)
    )
    new = [u for u in users if u.pk != locked.reporter_id and u.pk not in following]
    if not new:
        return 0
    # The row is locked, so nobody else adds people meanwhile and counting in Python is safe.
    Participant.objects.bulk_create(
        Participant(tenant_id=locked.tenant_id, incident=locked, user=user) for user in new
    )
    locked.affected_count += len(new)
    save_incident(locked, ["affected_count"])  # moves the version like any write
    IncidentEvent.objects.bulk_create(
        event_row(
            actor=actor,
            incident=locked,
            kind=EventKind.JOINED,
            data={"user": user.email, "via": via.reference if via else None},
            reason=f"{user.display_name} is affected too",
        )
        for user in new
    )
    return len(new)
