"""Pieces every incident service uses: the row lock, the version check, the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from incidents.errors import StaleIncident
from incidents.models import Incident, IncidentEvent
from incidents.services.conflicts import Touch, check_version
from tenancy.actors import Actor
from tenancy.errors import InvalidInput
from tenancy.models import Membership, User


def lock_incident(
    incident: Incident,
    *,
    actor: Actor,
    expected_version: int | None,
    touch: Touch | None = None,
) -> Incident:
    """Re-read the incident under a row lock, inside the tenant, and check the caller's version:
    only a change since then that clashes with what this write `touch`es refuses it
    (services/conflicts.py; without a `touch`, any change does)."""
    locked = (
        Incident.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("priority", "group", "category")
        .get(pk=incident.pk)
    )
    check_version(locked, expected_version=expected_version, touch=touch)
    return locked


def check_member(actor: Actor, user: User, *, field: str) -> None:
    """Refuse a user who is not an active member of the actor's tenant, in any role."""
    member = Membership.objects.for_tenant(actor.tenant).filter(
        user=user, is_active=True, user__is_active=True
    )
    if not member.exists():
        raise InvalidInput(f"{user.email} is not a member of this desk.", field=field)


def lock_in_order(actor: Actor, ids: list[int]) -> None:
    """Lock several incidents at once, always in id order, so that lockers never deadlock."""
    list(
        Incident.objects.for_tenant(actor.tenant)
        .select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def save_incident(incident: Incident, fields: list[str]) -> None:
    try:
        incident.save(update_fields=fields)
    except ConcurrentTransition:
        raise StaleIncident(
            f"{incident.reference} was changed by someone else at the same moment; try again."
        ) from None


def record_event(incident: Incident, **fields: Any) -> IncidentEvent:
    """Write the event (the fields of `event_row`) with its change, in the same transaction."""
    assert transaction.get_connection().in_atomic_block, "events are written with their change"
    event = event_row(incident=incident, **fields)
    event.save(force_insert=True)
    return event


def event_row(
    *,
    actor: Actor,
    kind: str,
    incident: Incident | None = None,
    incident_id: int | None = None,
    version: int | None = None,
    at: datetime | None = None,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    public: bool = True,
    source_key: str = "",
) -> IncidentEvent:
    """An event, not yet written. Every IncidentEvent is built here, whether a service writes
    it at once (record_event) or a bulk path collects many for one bulk_create.

    Given the `incident`, the event carries its current version and is dated now. A bulk UPDATE
    that read only values gives `incident_id` and the `version` it makes; an import's replay
    gives no incident (it is attached once written) and dates events at the source's time."""
    if version is None:
        assert incident is not None, "an event without its incident says its version"
        version = incident.version
    # The tenant comes from the actor; an incident of another tenant here is a bug upstream.
    assert incident is None or incident.tenant_id == actor.tenant.pk, "one tenant per event"
    owner = {"incident": incident} if incident is not None else {"incident_id": incident_id}
    return IncidentEvent(
        tenant_id=actor.tenant.pk,
        **owner,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        public=public,
        incident_version=version,
        created_at=at or timezone.now(),
        source_key=source_key,
        **actor.event_fields(),
    )
