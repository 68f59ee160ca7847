"""Changes to an incident's fields outside the lifecycle: details, priority, assignment,
diagnosis. Each is versioned like a transition and recorded as one event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from incidents.hooks import incident_reassigned, incident_retargeted
from incidents.models import AssignmentGroup, Category, EventKind, Incident, IncidentState
from incidents.rules import check_staff, is_group_agent, is_reporter
from incidents.services.common import lock_incident, record_event, save_incident
from incidents.services.conflicts import fields_touch
from incidents.services.priority import check_level, priority_derive
from incidents.services.report import _check_category, _clean_text
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import User

DETAIL_FIELDS = ("title", "description", "category", "impact", "urgency")
ASSIGNMENT = fields_touch(("group", "assignee"))


def _display(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "slug"):
        return value.slug
    if hasattr(value, "email"):
        return value.email
    return value


def _save_changes(
    incident: Incident,
    actor: Actor,
    changes: dict[str, Any],
    *,
    kind: str,
    reason: str,
    public: bool = True,
) -> Incident:
    diff = {
        field: [_display(getattr(incident, field)), _display(value)]
        for field, value in changes.items()
        if getattr(incident, field) != value
    }
    if not diff:
        return incident
    for field, value in changes.items():
        setattr(incident, field, value)
    save_incident(incident, list(changes))
    record_event(
        incident, actor=actor, kind=kind, reason=reason, data={"changes": diff}, public=public
    )
    return incident


@transaction.atomic
def incident_update(
    *,
    incident: Incident,
    actor: Actor,
    expected_version: int | None = None,
    reason: str = "",
    **values: Any,
) -> Incident:
    """Change title, description, category, impact or urgency; priority is re-derived."""
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise InvalidInput(f"These fields cannot be changed here: {', '.join(sorted(unknown))}.")
    locked = lock_incident(
        incident, actor=actor, expected_version=expected_version, touch=fields_touch(values)
    )
    if not (actor.is_agent_or_above or (is_reporter(actor, locked) and locked.is_open)):
        raise NotAllowed("Only the desk's agents can change this incident.")
    if locked.is_final:
        raise InvalidInput(f"{locked.reference} is {locked.state}; it can no longer be changed.")
    changes = _detail_changes(actor, locked, values)
    reason = (reason or "").strip()
    if {"impact", "urgency"} & set(changes) and not reason and not actor.is_system:
        raise InvalidInput("Say why impact or urgency changes.", field="reason")
    old_priority_id = locked.priority_id
    updated = _save_changes(locked, actor, changes, kind=EventKind.FIELD_CHANGED, reason=reason)
    if updated.priority_id != old_priority_id:  # SLA: re-target the live clocks
        incident_retargeted.send(incident=updated, actor=actor, reason=reason)
    return updated


def _detail_changes(actor: Actor, incident: Incident, values: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "title" in values or "description" in values:
        title, description = _clean_text(
            values.get("title", incident.title), values.get("description", incident.description)
        )
        changes.update(title=title, description=description)
    if "category" in values:
        category: Category | None = values["category"]
        _check_category(actor, category)
        changes["category"] = category
    impact = check_level(values.get("impact", incident.impact), "impact")
    urgency = check_level(values.get("urgency", incident.urgency), "urgency")
    if (impact, urgency) != (incident.impact, incident.urgency):
        level = priority_derive(tenant=actor.tenant, impact=impact, urgency=urgency)
        changes.update(impact=impact, urgency=urgency, priority=level, priority_rank=level.rank)
    return changes


@transaction.atomic
def incident_reassign(
    *,
    incident: Incident,
    actor: Actor,
    group: AssignmentGroup | None,
    assignee: User | None,
    reason: str = "",
    expected_version: int | None = None,
) -> Incident:
    """Change group and assignee without a state change.

    Agents hand on incidents of their own group; managers reassign anywhere in the tenant.
    """
    from incidents.services.transitions import (
        _check_group,
        _check_in_group,
        _staff_member,
        assignment_changes,
    )

    check_staff(actor, "reassign incidents")
    _check_group(actor, group)
    _staff_member(actor, assignee, "assignee")
    if group is None and assignee is None:
        raise InvalidInput("Choose a group, an agent, or both.", field="group")
    locked = lock_incident(
        incident, actor=actor, expected_version=expected_version, touch=ASSIGNMENT
    )
    if not locked.is_open:
        raise InvalidInput(f"{locked.reference} is not open; it cannot be reassigned.")
    if locked.state == IncidentState.REPORTED:
        raise InvalidInput(
            f"{locked.reference} is still in the Unassigned queue; escalate it instead."
        )
    if not actor.is_manager and not is_group_agent(actor, locked):
        raise NotAllowed("Only an agent of the incident's group or a manager can reassign it.")
    _check_in_group(actor, group, assignee)
    changes = assignment_changes(locked, group, assignee)
    before = (locked.group_id, locked.assignee_id)
    updated = _save_changes(locked, actor, changes, kind=EventKind.ASSIGNED, reason=reason)
    if (updated.group_id, updated.assignee_id) != before:  # SLA: alert the new holder
        incident_reassigned.send(incident=updated, actor=actor)
    return updated


CAUSE_CATEGORY_MAX = 100


@transaction.atomic
def incident_record_diagnosis(
    *,
    incident: Incident,
    actor: Actor,
    cause_category: str | None = None,
    root_cause: str | None = None,
    workaround: str | None = None,
    expected_version: int | None = None,
) -> Incident:
    """Record what diagnosis found; a field left out (None) keeps its value."""
    check_staff(actor, "record a diagnosis")
    given = {"cause_category": cause_category, "root_cause": root_cause, "workaround": workaround}
    changes = {field: value.strip() for field, value in given.items() if value is not None}
    if len(changes.get("cause_category", "")) > CAUSE_CATEGORY_MAX:
        raise InvalidInput(
            f"The cause category is limited to {CAUSE_CATEGORY_MAX} characters.",
            field="cause_category",
        )
    locked = lock_incident(
        incident, actor=actor, expected_version=expected_version, touch=fields_touch(changes)
    )
    if locked.is_final:
        raise InvalidInput(f"{locked.reference} is {locked.state}; it can no longer be changed.")
    return _save_changes(
        locked, actor, changes, kind=EventKind.FIELD_CHANGED, reason="Diagnosis", public=False
    )
