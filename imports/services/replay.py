"""History as it happened: one source incident's rows -> its fields and its events.

Pure Python over the rows, the run's references and the tenant's matrix; the writer saves what
comes out. The live transition rules are not replayed: the source moves New -> Resolved in
one step where the desk would take three, and the event records exactly that move, with the
live transition's name where one fits (DESIGN.md: imported history is the one exception to
"only the transition services change state").

Every source row becomes one event carrying the row's identity (`source_key`), at the row's
own time: a state change, an assignment, a field change, or an update that changed nothing
this desk keeps (internal, so requesters never see it). An incident also gets its `reported`
event at the source's opened_at, and an `escalate` event before work starts when a group
holds it (Active -> escalated, then accepted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from imports.services.clocks import ClockWriter
from imports.services.references import References
from incidents.models import EventKind, Incident, IncidentEvent, PriorityLevel
from incidents.models.incident import OPEN_STATES
from incidents.services.common import event_row
from tenancy.actors import Actor
from tenancy.models import Tenant

OPENED_KEY = "opened"
ESCALATE_SUFFIX = "/escalate"


@dataclass
class Context:
    """What every incident of a run is replayed with."""

    tenant: Tenant
    tz: tzinfo
    fmt: Any
    refs: References
    levels: dict[tuple[str, str], PriorityLevel]
    clocks: ClockWriter = field(default_factory=ClockWriter)

    @property
    def tenant_id(self) -> int:
        return self.tenant.pk

    def aware(self, moment: datetime) -> datetime:
        return moment.replace(tzinfo=self.tz)


@dataclass
class Draft:
    """The incident as the replay moves through its rows."""

    state: str = "reported"
    hold_reason: str = ""
    impact: str = "medium"
    urgency: str = "medium"
    priority: PriorityLevel | None = None
    category: Any = None
    group: Any = None
    assignee: Any = None
    resolution_code: Any = None
    resolution_notes: str = ""
    reassignment_count: int = 0
    reopen_count: int = 0
    reported_at: datetime | None = None
    escalated_at: datetime | None = None
    assigned_at: datetime | None = None
    acknowledged_at: datetime | None = None
    diagnosing_at: datetime | None = None
    on_hold_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0

    FIELDS = (
        *("state", "hold_reason", "impact", "urgency", "priority", "category", "group"),
        *("assignee", "resolution_code", "resolution_notes", "reassignment_count"),
        *("reopen_count", "reported_at", "escalated_at", "assigned_at", "acknowledged_at"),
        *("diagnosing_at", "on_hold_at", "resolved_at", "closed_at", "cancelled_at", "version"),
    )

    @classmethod
    def of(cls, incident: Incident) -> Draft:
        return cls(**{name: getattr(incident, name) for name in cls.FIELDS})

    def values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in self.FIELDS}
        values["priority_rank"] = self.priority.rank if self.priority else None
        return values


def _name(obj: Any) -> str | None:
    if obj is None:
        return None
    return getattr(obj, "full_name", None) or getattr(obj, "name", None) or str(obj)


def _pk(obj: Any) -> int | None:
    return obj.pk if obj is not None else None


def transition_name(source: str, target: str) -> str:
    """The live transition that makes this move, or 'import' when none does (Active -> New)."""
    if source in ("resolved", "closed") and target in OPEN_STATES:
        return "reopen"
    names = {
        "escalated": "escalate",
        "on_hold": "hold",
        "resolved": "resolve",
        "closed": "close",
        "cancelled": "cancel",
    }
    if target in names:
        return names[target]
    if target == "diagnosing":
        return "resume" if source == "on_hold" else "accept"
    return "import"


@dataclass
class Replay:
    ctx: Context
    number: str
    draft: Draft
    events: list[IncidentEvent] = field(default_factory=list)

    # --- events -------------------------------------------------------------------------
    def _event(self, row: Any, at: datetime, kind: str, key: str, **fields: Any) -> None:
        self.draft.version += 1
        data = fields.pop("data", {})
        data["source"] = {
            "system": self.ctx.fmt.SOURCE,
            "number": self.number,
            "line": row.line,
            "sys_mod_count": row.mod_count,
            "state": row.state,
            "priority": str(row.priority),
        }
        by = row.updated_by if key != OPENED_KEY else row.opened_by
        # The source's user, by name: they need not be (or match) a member here.
        actor = Actor.system(self.ctx.tenant, f"{by or 'Someone'} ({self.ctx.fmt.SOURCE})"[:150])
        self.events.append(
            event_row(
                actor=actor,
                version=self.draft.version,
                at=at,
                kind=kind,
                data=data,
                source_key=key,
                **fields,
            )
        )
        self.draft.updated_at = max(self.draft.updated_at or at, at)

    def open(self, first: Any) -> None:
        """The incident as the source opened it: its first row's fields, at opened_at."""
        d, refs = self.draft, self.ctx.refs
        d.reported_at = self.ctx.aware(first.opened_at)
        d.impact, d.urgency = first.impact, first.urgency
        d.priority = self.ctx.levels[(first.impact, first.urgency)]
        d.category = refs.categories.get(first.category)
        d.group = refs.groups.get(first.group)
        d.assignee = refs.people.get(first.assignee)
        if d.assignee is not None:
            d.assigned_at = d.reported_at
        data = {
            "impact": d.impact,
            "urgency": d.urgency,
            "priority": d.priority.slug,
            "group": _name(d.group),
            "assignee": _name(d.assignee),
            "category": _name(d.category),
        }
        self._event(first, d.reported_at, EventKind.REPORTED, OPENED_KEY, to_state="reported",
                    data=data)  # fmt: skip

    # --- one row --------------------------------------------------------------------------
    def apply(self, row: Any) -> None:
        at = self.ctx.aware(row.updated_at)
        changes = self._changes(row, at)
        target, hold_reason = self.ctx.fmt.STATES[row.state]
        d = self.draft
        if (target, hold_reason) == (d.state, d.hold_reason):
            assigned = "group" in changes or "assignee" in changes
            kind = EventKind.ASSIGNED if assigned else EventKind.FIELD_CHANGED
            # An update that changed nothing kept here stays in the audit trail, internally.
            self._event(row, at, kind, row.key, data={"changes": changes}, public=bool(changes))
            return
        if target == "diagnosing" and d.state == "reported" and d.group is not None:
            self._move(row, at, "escalated", "", {}, row.key + ESCALATE_SUFFIX)
        self._move(row, at, target, hold_reason, changes, row.key)

    def _move(
        self, row: Any, at: datetime, target: str, hold_reason: str, changes: dict, key: str
    ) -> None:
        d = self.draft
        source, name, left_hold = d.state, transition_name(d.state, target), d.hold_reason
        self._enter(row, at, target, hold_reason)
        data: dict[str, Any] = {"changes": changes} if changes else {}
        if target == "escalated":
            data.update(group=_name(d.group), assignee=_name(d.assignee), from_group=None)
        elif target == "on_hold" or source == "on_hold":
            data["hold_reason"] = hold_reason or left_hold
        elif target == "resolved" and d.resolution_code is not None:
            data["resolution_code"] = d.resolution_code.slug
        self._event(row, at, EventKind.TRANSITION, key, transition=name, from_state=source,
                    to_state=target, data=data)  # fmt: skip

    def _enter(self, row: Any, at: datetime, target: str, hold_reason: str) -> None:
        """Move the draft and stamp the step's time, as the live services do."""
        d = self.draft
        d.state, d.hold_reason = target, hold_reason
        if target == "escalated":
            d.escalated_at = d.escalated_at or at
        elif target == "diagnosing":
            d.diagnosing_at = d.diagnosing_at or at
            d.acknowledged_at = d.acknowledged_at or at
            d.resolved_at = None  # a reopen, as the live reopen does
        elif target == "on_hold":
            d.on_hold_at = at
        elif target in ("resolved", "closed"):
            d.resolved_at = d.resolved_at or at
            if d.resolution_code is None:
                d.resolution_code = self.ctx.refs.codes.get(row.closed_code)
                d.resolution_notes = self._notes(row)
            if target == "closed":
                d.closed_at = at
        elif target == "cancelled":
            d.cancelled_at = d.cancelled_at or at
            d.resolved_at = None  # a cancelled incident was not resolved, whatever came before
        if target in ("reported", "on_hold"):
            d.resolved_at = None
        if target in OPEN_STATES:
            d.cancelled_at = d.closed_at = None  # the source took a cancellation or close back

    def _notes(self, row: Any) -> str:
        code = f"close code “{row.closed_code}”" if row.closed_code else "no close code"
        by = f", resolved by {row.resolved_by}" if row.resolved_by else ""
        return (
            f"Imported from {self.ctx.fmt.SOURCE} {self.number}: {code}{by}. "
            "The export carries no resolution notes."
        )

    def _changes(self, row: Any, at: datetime) -> dict[str, list]:
        """Apply the row's field values to the draft; return what changed, old and new."""
        d, refs, changes = self.draft, self.ctx.refs, {}
        if (row.impact, row.urgency) != (d.impact, d.urgency):
            level = self.ctx.levels[(row.impact, row.urgency)]
            for name, new in (("impact", row.impact), ("urgency", row.urgency)):
                if getattr(d, name) != new:
                    changes[name] = [getattr(d, name), new]
            if _pk(level) != _pk(d.priority):
                changes["priority"] = [d.priority.slug if d.priority else None, level.slug]
            d.impact, d.urgency, d.priority = row.impact, row.urgency, level
        for name, new in (
            ("category", refs.categories.get(row.category)),
            ("group", refs.groups.get(row.group)),
            ("assignee", refs.people.get(row.assignee)),
        ):
            old = getattr(d, name)
            if _pk(old) != _pk(new):
                changes[name] = [_name(old), _name(new)]
                setattr(d, name, new)
                if name == "assignee" and new is not None:
                    d.assigned_at = at
        for name in ("reassignment_count", "reopen_count"):
            if getattr(d, name) != getattr(row, name):
                changes[name] = [getattr(d, name), getattr(row, name)]
                setattr(d, name, getattr(row, name))
        return changes

    def finish(self, last: Any) -> None:
        """The source's own resolved_at and closed_at stand for the incident's."""
        d = self.draft
        if d.state in ("resolved", "closed") and last.resolved_at is not None:
            d.resolved_at = self.ctx.aware(last.resolved_at)
        if d.state == "closed" and last.closed_at is not None:
            d.closed_at = self.ctx.aware(last.closed_at)


def describe(fmt: Any, first: Any) -> tuple[str, str]:
    """Title and description: the export has neither, so say where the incident came from."""
    title = f"{first.number} ({fmt.SOURCE})"
    if first.category:
        title += f": {first.category}"
        if first.details.get("Subcategory"):
            title += f" / {first.details['Subcategory']}"
    lines = [f"Imported from {fmt.SOURCE} incident {first.number}."]
    if first.caller:
        lines.append(f"Caller: {first.caller}")
    if first.opened_by:
        lines.append(f"Opened by: {first.opened_by}")
    lines += [f"{label}: {value}" for label, value in first.details.items()]
    return title[:200], "\n".join(lines)
