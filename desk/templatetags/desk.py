"""Words for the desk's timeline: an event as a sentence, its details as short lines."""

from __future__ import annotations

from django import template

from incidents.models import EventKind, HoldReason, IncidentEvent, IncidentState

register = template.Library()

DID = {
    "escalate": "escalated it",
    "accept": "accepted it and started diagnosis",
    "hold": "put it on hold",
    "resume": "resumed it",
    "resolve": "resolved it",
    "reopen": "reopened it",
    "close": "closed it",
    "cancel": "cancelled it",
}
KIND_DID: dict[str, str] = {
    EventKind.REPORTED: "reported it",
    EventKind.FIELD_CHANGED: "changed it",
    EventKind.ASSIGNED: "reassigned it",
    EventKind.COMMENT: "replied",
    EventKind.NOTE: "wrote an internal note",
    EventKind.ATTACHMENT: "attached a file",
}
DETAIL_KEYS = {
    "group": "Group",
    "assignee": "Agent",
    "kind": "Escalation",
    "hold_reason": "Waiting for",
    "resolution_code": "Resolution code",
    "rating": "Rating",
    "duplicate_of": "Duplicate of",
    "priority": "Priority",
}


@register.filter
def state_label(value: str) -> str:
    try:
        return IncidentState(value).label
    except ValueError:
        return value


@register.simple_tag
def event_sentence(event: IncidentEvent) -> str:
    if event.kind == EventKind.TRANSITION:
        return f"{event.actor_name} {DID.get(event.transition, event.transition)}"
    if event.kind in KIND_DID:
        return f"{event.actor_name} {KIND_DID[event.kind]}"
    return f"{event.actor_name}: {event.get_kind_display().lower()}"


def _show(value: object) -> str:
    if value in (None, ""):
        return "none"
    if isinstance(value, str) and value in HoldReason.values:
        return HoldReason(value).label
    return str(value)


@register.simple_tag
def event_details(event: IncidentEvent) -> list[str]:
    """Short lines: what moved and the values that came with it."""
    lines = []
    if event.kind == EventKind.TRANSITION and event.from_state:
        lines.append(f"{state_label(event.from_state)} → {state_label(event.to_state)}")
    for field, (old, new) in (event.data.get("changes") or {}).items():
        lines.append(f"{field.replace('_', ' ').capitalize()}: {_show(old)} → {_show(new)}")
    for key, label in DETAIL_KEYS.items():
        value = event.data.get(key)
        if value not in (None, "") and event.kind != EventKind.FIELD_CHANGED:
            lines.append(f"{label}: {_show(value)}")
    if event.kind == EventKind.REPORTED and event.data.get("impact"):
        lines.insert(
            0,
            f"{_show(event.data['impact']).capitalize()} impact × "
            f"{_show(event.data.get('urgency'))} urgency",
        )
    return lines
