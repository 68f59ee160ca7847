"""Calendars, SLA targets and escalation policies as their audit records show them (issue 17):
plain words a person reads ("P1 response": "30 min", "Monday hours": "09:00–17:00")."""

from __future__ import annotations

from typing import Any

from escalation.calendars import WEEKDAYS
from escalation.models import (
    BusinessCalendar,
    CalendarHoliday,
    EscalationLevel,
    EscalationPolicy,
    NotifyKind,
    SlaPolicy,
)
from incidents.models import HoldReason
from incidents.services.audited import person

CLOSED = "closed"


def seconds_words(seconds: int) -> str:
    """'1 d 2 h 30 min': every unit, so that a change of a minute in a long target shows."""
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts) or "0 s"


def calendar_words(calendar: BusinessCalendar) -> dict[str, Any]:
    words: dict[str, Any] = {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "around_the_clock": calendar.always_open,
    }
    for day, name in enumerate(WEEKDAYS):
        spans = calendar.weekly_hours.get(str(day)) or []
        words[f"{name} hours"] = ", ".join(f"{a}–{b}" for a, b in spans) or CLOSED
    words["public_holidays"] = "-".join(
        p for p in (calendar.holiday_country, calendar.holiday_subdivision) if p
    )
    words["default"] = calendar.is_default
    return words


def days_off_words(calendar: BusinessCalendar) -> list[str]:
    if calendar.pk is None:
        return []
    days = CalendarHoliday.objects.for_tenant(calendar.tenant_id).filter(calendar=calendar)
    return [f"{d.date.isoformat()} {d.name}".strip() for d in days.order_by("date")]


def sla_words(policy: SlaPolicy) -> dict[str, Any]:
    label = policy.priority.label
    pauses = [HoldReason(r).label if r in HoldReason.values else r for r in policy.pause_on]
    return {
        f"{label} response": seconds_words(policy.response_seconds),
        f"{label} resolution": seconds_words(policy.resolution_seconds),
        "calendar": policy.calendar.name,
        "warnings": ", ".join(f"{p}%" for p in policy.warn_percents) or "none",
        "paused_while": sorted(pauses),
    }


def sla_label(policy: SlaPolicy) -> str:
    return f"SLA targets of {policy.priority.label}"


def escalation_words(policy: EscalationPolicy, levels: list[EscalationLevel]) -> dict[str, Any]:
    return {
        "name": policy.name,
        "group": policy.group.name if policy.group_id and policy.group else "the whole desk",
        "repeat": policy.repeat_count,
        "calendar": policy.calendar.name if policy.calendar else "around the clock",
        "active": policy.is_active,
        "levels": [_level_words(lvl) for lvl in levels],
    }


def _level_words(level: EscalationLevel) -> str:
    whom = person(level.user) if level.notify == NotifyKind.USER else None
    if level.notify == NotifyKind.SCHEDULE and level.schedule is not None:
        whom = f"whoever is on call in {level.schedule.name}"
    notify = whom or NotifyKind(level.notify).label
    return f"after {seconds_words(level.after_seconds)}: {notify}"


def stored_levels(policy: EscalationPolicy) -> list[EscalationLevel]:
    if policy.pk is None:
        return []
    rows = EscalationLevel.objects.for_tenant(policy.tenant_id).filter(policy=policy)
    return list(rows.select_related("user", "schedule").order_by("position"))
