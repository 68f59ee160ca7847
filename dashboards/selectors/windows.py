"""Working windows of the tenant's business calendars, stored so SQL can count business time.

An SLA clock holds the business seconds it counted, but it stops counting when it breaches
(its `spent` stays at the target). The time to acknowledge or to resolve of a breached incident
is the target plus the working time from the breach to the acknowledgement or resolution; that
stretch is W(end) - W(breached_at) over the clock's calendar, where W is read from these rows.
The rows are made per calendar (a few hundred a year), never per incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from dashboards.models import CalendarWindow, RollupState
from dashboards.selectors.sql import Seconds
from escalation.calendars import windows
from escalation.models import BusinessCalendar, SlaClock
from escalation.services.defaults import calendar_spec
from tenancy.models import Tenant

AHEAD = timedelta(days=2)  # windows reach this far past now, so today's clocks are covered
ZERO = timedelta(0)


def windows_ensure(*, tenant: Tenant, state: RollupState, now: datetime | None = None) -> bool:
    """Make the windows cover every breach of the tenant up to now; rewrite them once a day
    (so calendar edits reach new figures). Returns whether they were rewritten."""
    now = now or timezone.now()
    earliest = (
        SlaClock.objects.for_tenant(tenant)
        .filter(breached_at__isnull=False)
        .aggregate(first=Min("breached_at"))["first"]
    )
    start = min(earliest or now, state.windows_from or now)
    covered = state.windows_from is not None and state.windows_from <= start
    written_today = state.windows_until is not None and state.windows_until > now + AHEAD / 2
    if covered and written_today:
        return False
    start = min(start, state.windows_from or start, now - timedelta(days=1))
    windows_write(tenant=tenant, start=start, until=now + AHEAD)
    state.windows_from, state.windows_until = start, now + AHEAD
    return True


def windows_write(*, tenant: Tenant, start: datetime, until: datetime) -> int:
    """Replace the tenant's windows with those of every calendar over [start, until)."""
    CalendarWindow.objects.for_tenant(tenant).delete()
    rows = []
    for calendar in BusinessCalendar.objects.for_tenant(tenant):
        spec = calendar_spec(calendar)
        counted = 0.0
        for a, b in windows(spec, start, until):
            rows.append(
                CalendarWindow(
                    tenant=tenant, calendar=calendar, start=a, end=b, cum_seconds=counted
                )
            )
            counted += (b - a).total_seconds()
    CalendarWindow.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def worked_until(calendar: OuterRef | F, instant: OuterRef | F) -> Coalesce:
    """W(instant): working seconds of the calendar from the start of its windows to the instant
    (an expression naming columns of the outer query)."""
    inside = ExpressionWrapper(instant - F("start"), output_field=DurationField())
    length = ExpressionWrapper(F("end") - F("start"), output_field=DurationField())
    clipped = Least(Greatest(inside, Value(ZERO)), length)
    window = (
        CalendarWindow.objects.filter(
            tenant=OuterRef("tenant"), calendar=calendar, start__lte=instant
        )
        .order_by("-start")
        .annotate(w=F("cum_seconds") + Seconds(clipped))
        .values("w")[:1]
    )
    return Coalesce(Subquery(window), Value(0.0))
