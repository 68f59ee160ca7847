"""Schedules for the on-call tests, made through the services as an admin would."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.utils import timezone

from oncall import services
from oncall.models import Schedule


def daily_schedule(
    people,
    *members,
    name: str = "Network",
    tz: str = "UTC",
    fallback=None,
    handoff: time = time(9, 0),
) -> Schedule:
    """A schedule whose one layer hands over daily at `handoff`, the first member's turn
    starting today at that time (yesterday's when that is still ahead)."""
    admin = people.actor(people.ada)
    schedule = services.schedule_save(
        actor=admin,
        schedule=None,
        name=name,
        time_zone=tz,
        fallback_id=fallback.pk if fallback else None,
    )
    today = timezone.now().date()
    start = today if timezone.now().time() >= handoff else today - timedelta(days=1)
    services.layer_add(
        actor=admin,
        schedule=schedule,
        data=services.LayerInput(
            name="Primary",
            members=[m.pk for m in members],
            rotation="daily",
            rotation_start=start,
            handoff_time=handoff,
        ),
    )
    return schedule


def empty_schedule(people, name: str = "Duty managers", fallback=None) -> Schedule:
    return services.schedule_save(
        actor=people.actor(people.ada),
        schedule=None,
        name=name,
        time_zone="UTC",
        fallback_id=fallback.pk if fallback else None,
    )


FIRST_MONDAY = date(2026, 1, 5)
