"""Daily rollup rows, recomputed set-based for a set of days (or all of them).

For the days asked, the old rows are deleted and one INSERT ... SELECT writes the new ones:
a UNION ALL of one branch per kind of counter (each reading the rows counted on that day
through its own index) grouped by day, group, category and priority.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import reduce
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncDate

from dashboards.models import COUNTERS, ROLLUP_TRANSITIONS, DailyRollup, IncidentFact, Outcome
from dashboards.selectors.scope import local_midnight
from dashboards.selectors.sql import compiled
from incidents.models import EventKind, IncidentEvent
from tenancy.models import Tenant

DIMENSIONS = ("group_id", "category_id", "priority_id")


def day_ranges(days: Iterable[date], tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive days as [start, end) instants (local midnights in the zone)."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] == day:
            ranges[-1] = (ranges[-1][0], day + timedelta(days=1))
        else:
            ranges.append((day, day + timedelta(days=1)))
    return [(local_midnight(a, tz), local_midnight(b, tz)) for a, b in ranges]


def _within(column: str, ranges: list[tuple[datetime, datetime]] | None) -> Q:
    if ranges is None:
        return Q(**{f"{column}__isnull": False})
    spans = [Q(**{f"{column}__gte": start, f"{column}__lt": end}) for start, end in ranges]
    return reduce(operator.or_, spans)


def _one_if(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _branch(qs: QuerySet, at: str, tz: ZoneInfo, counters: dict, prefix: str = "") -> QuerySet:
    values: dict[str, Any] = {"r_day": TruncDate(at, tzinfo=tz)}
    values |= {f"r_{dim}": F(f"{prefix}{dim}") for dim in DIMENSIONS}
    for name in COUNTERS:
        values[f"r_{name}"] = counters.get(name, Value(0, output_field=IntegerField()))
    return qs.order_by().values(**values)


def _fact_counters() -> dict[str, dict]:
    """For each instant of a fact: the counters it adds to on that day."""
    one = Value(1, output_field=IntegerField())
    return {
        "reported_at": {"created": one},
        "resolved_at": {"resolved": one},
        "response_ended_at": {
            "response_met": _one_if(Q(response_outcome=Outcome.MET)),
            "response_breached": _one_if(Q(response_outcome=Outcome.BREACHED)),
        },
        "resolution_ended_at": {
            "resolution_met": _one_if(Q(resolution_outcome=Outcome.MET)),
            "resolution_breached": _one_if(Q(resolution_outcome=Outcome.BREACHED)),
        },
        "closed_at": {
            "closed": one,
            "rated": _one_if(Q(rating__isnull=False)),
            "rating_sum": Coalesce(F("rating"), Value(0), output_field=IntegerField()),
            **{f"rating_{k}": _one_if(Q(rating=k)) for k in range(1, 6)},
        },
    }


def _branches(tenant: Tenant, tz: ZoneInfo, ranges: list | None) -> list[QuerySet]:
    """One branch per instant a fact is counted on, and one for the transition events."""
    facts = IncidentFact.objects.for_tenant(tenant)
    branches = [
        _branch(facts.filter(_within(at, ranges)), at, tz, counters)
        for at, counters in _fact_counters().items()
    ]
    events = IncidentEvent.objects.for_tenant(tenant).filter(
        _within("created_at", ranges),
        kind=EventKind.TRANSITION,
        transition__in=ROLLUP_TRANSITIONS,
    )
    transitions = {
        "resolutions": _one_if(Q(transition="resolve")),
        "reopens": _one_if(Q(transition="reopen")),
    }
    branches.append(_branch(events, "created_at", tz, transitions, prefix="incident__"))
    return branches


def rollups_write(tenant: Tenant, days: Iterable[date] | None, tz: ZoneInfo) -> int:
    """Recompute the tenant's rollup rows of these days (None: every day)."""
    days = None if days is None else sorted(set(days))
    if days == []:
        return 0
    ranges = None if days is None else day_ranges(days, tz)
    existing = DailyRollup.objects.for_tenant(tenant)
    (existing if days is None else existing.filter(day__in=days)).delete()
    picked = ["r_day", *(f"r_{d}" for d in DIMENSIONS)]
    names = ", ".join([*picked, *(f"r_{c}" for c in COUNTERS)])
    parts, params = [], [tenant.pk]
    for i, qs in enumerate(_branches(tenant, tz, ranges)):
        sql, branch_params = compiled(qs)
        parts.append(f"SELECT {names} FROM ({sql}) AS b{i}")
        params.extend(branch_params)
    sums = [f"SUM(r_{c})" for c in COUNTERS]
    table = DailyRollup._meta.db_table
    columns = ", ".join(["tenant_id", "day", *DIMENSIONS, *COUNTERS])
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT %s, {', '.join(picked)}, "
        f"{', '.join(sums)} FROM ({' UNION ALL '.join(parts)}) AS u "
        f"GROUP BY {', '.join(picked)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
