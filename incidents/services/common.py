"""Pieces every incident service uses: the row lock, the version check, the event."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_fsm import ConcurrentTransition

from incidents.errors import StaleIncident
from incidents.models import EventKind, Incident, IncidentEvent, IncidentState
from tenancy.actors import Actor
from tenancy.errors import InvalidInput
from tenancy.models import Membership, User


def lock_incident(incident: Incident, *, actor: Actor, expected_version: int | None) -> Incident:
    """Re-read the incident under a row lock, inside the tenant, and check the caller's version."""
    locked = (
        Incident.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("priority", "group", "category")
        .get(pk=incident.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise stale_error(locked, expected_version)
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


def stale_error(incident: Incident, since_version: int) -> StaleIncident:
    changes = (
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, incident_version__gt=since_version)
        .order_by("created_at", "id")
    )
    said = [describe_event(e) for e in changes[:5]]
    detail = "; ".join(said) if said else "it was changed"
    return StaleIncident(
        f"{incident.reference} was changed by someone else since you opened it: {detail}. "
        "Review the current version and try again; your text is kept.",
        current_version=incident.version,
    )


def describe_event(event: IncidentEvent) -> str:
    who = event.actor_name
    if event.kind == EventKind.TRANSITION:
        to = IncidentState(event.to_state).label.lower() if event.to_state else "?"
        return f"{who} moved it to {to}"
    if event.kind == EventKind.FIELD_CHANGED:
        fields = ", ".join(sorted(event.data.get("changes", {}))) or "fields"
        return f"{who} changed {fields}"
    return f"{who}: {event.get_kind_display().lower()}"


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
    event = event_row(incident, **fields)
    event.save(force_insert=True)
    return event


def event_row(
    incident: Incident,
    *,
    actor: Actor,
    kind: str,
    transition: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    public: bool = True,
) -> IncidentEvent:
    """The event of the incident as it is now, not yet written (a report writes its two at once)."""
    return IncidentEvent(
        tenant_id=incident.tenant_id,
        incident=incident,
        kind=kind,
        transition=transition,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data or {},
        public=public,
        incident_version=incident.version,
        **actor.event_fields(),
    )
