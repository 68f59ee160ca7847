"""When a write based on an older version of an incident conflicts with what happened since.

The rule (issue 14): talk (replies, notes, files) never conflicts with anything; a field change
conflicts only with a change to the same fields; a state transition conflicts with another
transition. The events written since the version the writer loaded say what happened, and
give the refusal its words ("Bob Agent moved it to in progress", "Bob Agent changed the
priority to High"), never the columns behind them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from incidents.errors import StaleIncident
from incidents.models import (
    AssignmentGroup,
    Category,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentState,
    Level,
    PriorityLevel,
)
from tenancy.models import User

# The columns a person thinks of as one thing: the priority is derived from impact and urgency,
# the holder is a group and an agent, a diagnosis is its three fields.
TOPICS = {
    "impact": "priority",
    "urgency": "priority",
    "priority": "priority",
    "priority_rank": "priority",
    "group": "assignment",
    "assignee": "assignment",
    "assigned_at": "assignment",
    "reassignment_count": "assignment",
    "cause_category": "diagnosis",
    "root_cause": "diagnosis",
    "workaround": "diagnosis",
}
# The fields a transition writes that a field change may also write.
TRANSITION_TOPICS = {"escalate": {"assignment"}, "accept": {"assignment"}}
TALK_KINDS = {
    EventKind.COMMENT,
    EventKind.NOTE,
    EventKind.ATTACHMENT,
    EventKind.JOINED,
    EventKind.NOTIFICATION,
    EventKind.SLA,
    EventKind.ALERT,
}
SAID_AT_MOST = 5  # changes named in one refusal; the page shows the rest


@dataclass(frozen=True)
class Touch:
    """What a write changes: the topics of its fields, and whether it moves the state."""

    topics: frozenset[str] = frozenset()
    transition: bool = False

    def clashes(self, other: Touch) -> bool:
        return (self.transition and other.transition) or bool(self.topics & other.topics)


TALK = Touch()


def fields_touch(names: Iterable[str]) -> Touch:
    """A field change of these columns (or service arguments named like them)."""
    return Touch(topics=frozenset(TOPICS.get(name, name) for name in names))


def transition_touch(name: str) -> Touch:
    return Touch(topics=frozenset(TRANSITION_TOPICS.get(name, ())), transition=True)


def event_touch(event: IncidentEvent) -> Touch:
    """What the change an event records touched."""
    if event.kind in TALK_KINDS:
        return TALK
    if event.kind in (EventKind.FIELD_CHANGED, EventKind.ASSIGNED):
        return fields_touch(event.data.get("changes", {}))
    if event.kind == EventKind.LINKED:
        return Touch(topics=frozenset({"parent" if "parent" in event.data else "children"}))
    if event.kind == EventKind.TRANSITION:
        return transition_touch(event.transition)
    return Touch(transition=True)  # a report, or a kind added later: safest as a transition


def check_version(locked: Incident, *, expected_version: int | None, touch: Touch | None) -> None:
    """Refuse the write if a change since `expected_version` clashes with `touch`; a write that
    does not say what it touches (None) clashes with any change."""
    if expected_version is None or locked.version == expected_version:
        return
    if expected_version > locked.version:  # not a version this incident ever had
        raise stale_error(locked, [])
    since = changes_since(locked, expected_version)
    clashing = [e for e in since if touch is None or touch.clashes(event_touch(e))]
    if clashing:
        raise stale_error(locked, clashing)


def changes_since(incident: Incident, version: int) -> list[IncidentEvent]:
    return list(
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, incident_version__gt=version)
        .order_by("created_at", "id")
    )


def stale_error(incident: Incident, events: list[IncidentEvent]) -> StaleIncident:
    detail = changes_in_words(incident, events) or "it was changed"
    return StaleIncident(
        f"{incident.reference} was changed by someone else since you opened it: {detail}. "
        "Review the current version and try again; your text is kept.",
        current_version=incident.version,
    )


def changes_in_words(incident: Incident, events: list[IncidentEvent]) -> str:
    """The first few changes, each as "<who> <did what>", joined for one sentence."""
    names = _Names(incident.tenant_id)
    return "; ".join(f"{e.actor_name} {_said(e, names)}" for e in events[:SAID_AT_MOST])


def _said(event: IncidentEvent, names: _Names) -> str:
    if event.kind == EventKind.TRANSITION:
        to = IncidentState(event.to_state).label.lower() if event.to_state else "another state"
        return f"moved it to {to}"
    if event.kind in (EventKind.FIELD_CHANGED, EventKind.ASSIGNED):
        changes = event.data.get("changes", {})
        said = [_field_said(topic, changes, names) for topic in _topics_in_order(changes)]
        return " and ".join(said) or "changed its details"
    if event.kind == EventKind.LINKED:
        return _first_lower(event.reason) or "changed its links"
    return _first_lower(event.get_kind_display())


def _topics_in_order(changes: dict[str, list]) -> list[str]:
    return list(dict.fromkeys(TOPICS.get(name, name) for name in changes))


def _new(changes: dict[str, list], field: str) -> object:
    pair = changes.get(field)
    return pair[1] if isinstance(pair, list) and len(pair) == 2 else None


def _field_said(topic: str, changes: dict[str, list], names: _Names) -> str:
    if topic == "priority":
        if "priority" in changes:
            return f"changed the priority to {names.priority(_new(changes, 'priority'))}"
        moved = [f for f in ("impact", "urgency") if f in changes]
        return " and ".join(f"changed the {f} to {_level(_new(changes, f))}" for f in moved)
    if topic == "assignment":
        return _assignment_said(changes, names)
    if topic == "category":
        return f"changed the category to {names.category(_new(changes, 'category'))}"
    if topic == "diagnosis":
        return "recorded a diagnosis"
    if topic in ("title", "description"):
        return f"changed the {topic}"
    return "changed its details"  # a column's name is never shown


def _assignment_said(changes: dict[str, list], names: _Names) -> str:
    if "assignee" in changes:
        assignee = _new(changes, "assignee")
        return f"assigned it to {names.person(assignee)}" if assignee else "unassigned it"
    if "group" in changes:
        return f"moved it to the group {names.group(_new(changes, 'group'))}"
    return "reassigned it"


def _level(value: object) -> str:
    return Level(value).label if value in Level.values else "another level"


def _first_lower(text: str) -> str:
    return text[:1].lower() + text[1:] if text else ""


class _Names:
    """The names behind the slugs and addresses an event records, read when a refusal needs
    them (one small query each, only on a conflict)."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id

    def priority(self, slug: object) -> str:
        rows = PriorityLevel.objects.for_tenant(self.tenant_id).filter(slug=slug)
        return rows.values_list("label", flat=True).first() or str(slug or "another level")

    def category(self, slug: object) -> str:
        if not slug:
            return "none"
        rows = Category.objects.for_tenant(self.tenant_id).filter(slug=slug)
        return rows.values_list("name", flat=True).first() or str(slug)

    def group(self, slug: object) -> str:
        if not slug:
            return "none"
        rows = AssignmentGroup.objects.for_tenant(self.tenant_id).filter(slug=slug)
        return rows.values_list("name", flat=True).first() or str(slug)

    def person(self, email: object) -> str:
        rows = User.objects.filter(
            email__iexact=str(email), memberships__tenant_id=self.tenant_id
        ).values_list("full_name", flat=True)
        return rows.first() or str(email)
