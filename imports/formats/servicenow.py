"""ServiceNow's incident event log: one CSV row per update of an incident.

The shape is that of the "Incident management process enriched event log" (UCI, CC BY 4.0),
exported from the audit trail of a ServiceNow instance: number, incident_state, sys_mod_count,
sys_updated_at, impact, urgency, priority, assignment_group, assigned_to, category, caller_id,
reassignment and reopen counts, closed_code, resolved_at, closed_at, ... '?' means empty and
times are day-first without seconds ("29-02-2016 01:16"), in no stated zone.

Everything here is pure: it turns text into SourceRow values or says why it cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from django.utils.text import slugify

from tenancy.inputs import whole_number

NAME = "servicenow-eventlog"
LABEL = "ServiceNow incident event log (CSV)"
SOURCE = "ServiceNow"
EMPTY = "?"

# Columns the import reads; a file without any of them is another shape and is refused.
REQUIRED_COLUMNS = (
    "number",
    "incident_state",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_updated_by",
    "sys_updated_at",
    "category",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "closed_code",
    "resolved_by",
    "resolved_at",
    "closed_at",
)
# Kept in the description when present: the desk has no field for them.
DESCRIBED_COLUMNS = (
    ("subcategory", "Subcategory"),
    ("u_symptom", "Symptom"),
    ("location", "Location"),
    ("cmdb_ci", "Configuration item"),
    ("contact_type", "Contact type"),
    ("made_sla", "Made SLA in ServiceNow"),
)

# ServiceNow state -> (our state, hold reason). Active becomes diagnosing; the replay writes an
# escalation to the group first when the incident has one (services/replay.py).
STATES: dict[str, tuple[str, str]] = {
    "New": ("reported", ""),
    "Active": ("diagnosing", ""),
    "Awaiting User Info": ("on_hold", "awaiting_caller"),
    "Awaiting Evidence": ("on_hold", "awaiting_caller"),
    "Awaiting Problem": ("on_hold", "awaiting_problem"),
    "Awaiting Vendor": ("on_hold", "awaiting_vendor"),
    "Awaiting Change": ("on_hold", "awaiting_change"),
    "Resolved": ("resolved", ""),
    "Closed": ("closed", ""),
    # Not in the sample's period, but every real instance has it; without it a cancelled
    # incident's last row would be refused and the incident left open in the desk.
    "Canceled": ("cancelled", ""),
    "Cancelled": ("cancelled", ""),
}
LEVELS = {"1 - high": "high", "2 - medium": "medium", "3 - low": "low"}
LEVEL_TEXT = "1 - High, 2 - Medium or 3 - Low"

# ServiceNow's base priority lookup rules (impact, urgency) -> priority, as its documentation
# gives them ("Define priority lookup rules", Incident Management). An instance may change them;
# a cell the file never shows takes this value.
BASE_MATRIX: dict[tuple[str, str], tuple[int, str]] = {
    ("high", "high"): (1, "Critical"),
    ("high", "medium"): (2, "High"),
    ("high", "low"): (3, "Moderate"),
    ("medium", "high"): (2, "High"),
    ("medium", "medium"): (3, "Moderate"),
    ("medium", "low"): (4, "Low"),
    ("low", "high"): (3, "Moderate"),
    ("low", "medium"): (4, "Low"),
    ("low", "low"): (4, "Low"),
}

_TIME = re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?")
_PRIORITY = re.compile(r"(\d)\s*-\s*(\S.*)")


class RowError(ValueError):
    """Why one row cannot be imported; the rest of the file still is."""


@dataclass(frozen=True, slots=True)
class Priority:
    rank: int
    label: str

    @property
    def slug(self) -> str:
        return slugify(self.label)

    def __str__(self) -> str:
        return f"{self.rank} - {self.label}"


@dataclass(slots=True)
class SourceRow:
    """One update of one incident, parsed; times are naive (the run gives them a zone)."""

    line: int
    number: str
    state: str
    mod_count: int
    updated_at: datetime
    updated_by: str
    opened_at: datetime
    opened_by: str
    impact: str
    urgency: str
    priority: Priority
    category: str
    group: str
    assignee: str
    caller: str
    reassignment_count: int
    reopen_count: int
    closed_code: str
    resolved_by: str
    resolved_at: datetime | None
    closed_at: datetime | None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The update's identity within its incident: its modification count and time."""
        return f"{self.mod_count}@{self.updated_at:%Y-%m-%dT%H:%M:%S}"

    @property
    def position(self) -> tuple[int, datetime]:
        """Where the update sits in its incident's history (sys_mod_count, then time)."""
        return (self.mod_count, self.updated_at)


def key_position(key: str) -> tuple[int, datetime] | None:
    """The position a stored source key stands for; None for keys of no update ('opened')."""
    count, at, rest = key.partition("@")
    number = whole_number(count)
    if not at or number is None:
        return None
    try:
        return number, datetime.fromisoformat(rest.split("/")[0])
    except ValueError:
        return None


def missing_columns(header: list[str]) -> list[str]:
    present = {name.strip().lower() for name in header}
    return [name for name in REQUIRED_COLUMNS if name not in present]


def _text(value: str) -> str:
    value = value.strip()
    if "  " in value:  # "Opened by  8": the export pads some names; a person types one space
        value = " ".join(value.split())
    return "" if value == EMPTY else value


@lru_cache(maxsize=65536)
def parse_time(value: str, column: str) -> datetime:
    # Day-first on purpose: 01-03-2016 is the 1st of March, whatever the locale says.
    match = _TIME.fullmatch(value.strip())
    if match is None:
        raise RowError(f"{column} {value!r} is not a day-first date and time (DD-MM-YYYY HH:MM)")
    day, month, year, hour, minute, second = match.groups()
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        raise RowError(f"{column} {value!r} is not a real date and time") from None


def _optional_time(value: str, column: str) -> datetime | None:
    value = _text(value)
    return parse_time(value, column) if value else None


def _whole(value: str, column: str) -> int:
    number = whole_number(value.strip())
    if number is None:
        raise RowError(f"{column} {value.strip()!r} is not a whole number")
    return number


def _level(value: str, column: str) -> str:
    level = LEVELS.get(" ".join(value.lower().split()))
    if level is None:
        raise RowError(f"{column} {value!r} is not one of {LEVEL_TEXT}")
    return level


@lru_cache(maxsize=64)
def parse_priority(value: str) -> Priority:
    match = _PRIORITY.fullmatch(value.strip())
    if match is None or not slugify(match.group(2)):
        raise RowError(f"priority {value!r} is not a level like '3 - Moderate'")
    return Priority(int(match.group(1)), " ".join(match.group(2).split()))


def _state(value: str) -> str:
    value = value.strip()
    if value not in STATES:
        known = ", ".join(STATES)
        raise RowError(f"incident_state {value!r} is not a ServiceNow state ({known})")
    return value


def parse_row(line: int, record: dict[str, str]) -> SourceRow:
    """One row as a SourceRow, or RowError saying (for the report) what is wrong with it."""
    number = _text(record["number"])
    if not number:
        raise RowError("the row has no incident number")
    if len(number) > 40:
        raise RowError(f"number {number[:50]!r} is longer than 40 characters")
    return SourceRow(
        line=line,
        number=number,
        state=_state(record["incident_state"]),
        mod_count=_whole(record["sys_mod_count"], "sys_mod_count"),
        updated_at=parse_time(record["sys_updated_at"], "sys_updated_at"),
        updated_by=_text(record["sys_updated_by"]),
        opened_at=parse_time(record["opened_at"], "opened_at"),
        opened_by=_text(record["opened_by"]),
        impact=_level(record["impact"], "impact"),
        urgency=_level(record["urgency"], "urgency"),
        priority=parse_priority(record["priority"]),
        category=_text(record["category"])[:100],
        group=_text(record["assignment_group"])[:100],
        assignee=_text(record["assigned_to"])[:150],
        caller=_text(record["caller_id"])[:150],
        reassignment_count=_whole(record["reassignment_count"], "reassignment_count"),
        reopen_count=_whole(record["reopen_count"], "reopen_count"),
        closed_code=_text(record["closed_code"])[:100],
        resolved_by=_text(record["resolved_by"])[:150],
        resolved_at=_optional_time(record["resolved_at"], "resolved_at"),
        closed_at=_optional_time(record["closed_at"], "closed_at"),
        details={
            label: _text(record[name])
            for name, label in DESCRIBED_COLUMNS
            if name in record and _text(record[name])
        },
    )
