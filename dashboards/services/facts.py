"""The fact row of each incident, written set-based from the incident and its two SLA clocks.

One INSERT ... SELECT ... ON CONFLICT DO UPDATE statement per batch of incidents (or for the
whole tenant): the durations are SQL expressions over the incident's timestamps and the clocks'
counted business time, so no incident passes through Python.

Where the numbers come from (docs/dashboards.md):
- wall time to acknowledge / resolve: acknowledged_at or resolved_at minus reported_at;
- business time: the SLA clock's `spent` (working seconds of the priority's calendar, holds
  that pause the clock left out); for a breached clock, whose `spent` stops at the target, plus
  the working time from the breach to the acknowledgement or resolution (CalendarWindow);
- SLA outcome: the clock's state once met or breached, ended at stopped_at (met) or breached_at.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest, TruncDate

from dashboards.models import ROLLUP_TRANSITIONS, IncidentFact
from dashboards.selectors.histograms import SERIES, bucket_sql
from dashboards.selectors.sql import Seconds, compiled
from dashboards.selectors.windows import worked_until
from escalation.models import ClockState, Metric
from incidents.models import EventKind, Incident, IncidentEvent
from tenancy.models import Tenant

# Timestamps of a fact on which some counter of the daily rollup, or a duration, is counted.
DAY_COLUMNS = (
    "reported_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_ended_at",
    "resolution_ended_at",
)


def _wall(end: str) -> Seconds:
    return Seconds(ExpressionWrapper(F(end) - F("reported_at"), output_field=DurationField()))


def _business(clock: str, end: str) -> Case:
    """The clock's counted time, plus what a breached clock ran on until `end`."""
    after_breach = Greatest(
        worked_until(OuterRef(f"{clock}__calendar"), OuterRef(end))
        - worked_until(OuterRef(f"{clock}__calendar"), OuterRef(f"{clock}__breached_at")),
        Value(0.0),
    )
    overrun = Case(
        When(**{f"{clock}__state": ClockState.BREACHED}, then=after_breach),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return Case(
        When(
            Q(**{f"{end}__isnull": False, f"{clock}__id__isnull": False}),
            then=Seconds(F(f"{clock}__spent")) + overrun,
        ),
        default=None,
        output_field=FloatField(),
    )


def _outcome(clock: str) -> tuple[Case, Case]:
    ended = [ClockState.MET, ClockState.BREACHED]
    outcome = Case(
        When(**{f"{clock}__state__in": ended}, then=F(f"{clock}__state")),
        default=Value(""),
        output_field=CharField(),
    )
    ended_at = Case(
        When(**{f"{clock}__state": ClockState.BREACHED}, then=F(f"{clock}__breached_at")),
        When(**{f"{clock}__state": ClockState.MET}, then=F(f"{clock}__stopped_at")),
        default=None,
        output_field=DateTimeField(),
    )
    return outcome, ended_at


def facts_source(tenant: Tenant, ids: Iterable[int] | None, now: datetime) -> QuerySet:
    """The fact rows of the tenant's incidents (those `ids`, or all), as a values() query whose
    keys are IncidentFact's column names in FACT_COLUMNS order."""
    qs = Incident.objects.for_tenant(tenant).annotate(
        resp=FilteredRelation("sla_clocks", condition=Q(sla_clocks__metric=Metric.RESPONSE)),
        reso=FilteredRelation("sla_clocks", condition=Q(sla_clocks__metric=Metric.RESOLUTION)),
    )
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    response_outcome, response_ended_at = _outcome("resp")
    resolution_outcome, resolution_ended_at = _outcome("reso")
    columns = {
        "tenant_id": F("tenant_id"),
        "incident_id": F("id"),
        "priority_id": F("priority_id"),
        "group_id": F("group_id"),
        "category_id": F("category_id"),
        "assignee_id": F("assignee_id"),
        "state": F("state"),
        "reported_at": F("reported_at"),
        "acknowledged_at": F("acknowledged_at"),
        "resolved_at": F("resolved_at"),
        "closed_at": F("closed_at"),
        "rating": F("satisfaction_rating"),
        "ack_seconds": _wall("acknowledged_at"),
        "ack_business_seconds": _business("resp", "acknowledged_at"),
        "resolve_seconds": _wall("resolved_at"),
        "resolve_business_seconds": _business("reso", "resolved_at"),
        "response_outcome": response_outcome,
        "response_ended_at": response_ended_at,
        "resolution_outcome": resolution_outcome,
        "resolution_ended_at": resolution_ended_at,
        "refreshed_at": Value(now, output_field=DateTimeField()),
    }
    aliased = {f"f_{name}": expression for name, expression in columns.items()}
    return qs.order_by().values(**aliased)


FACT_COLUMNS = (
    "tenant_id",
    "incident_id",
    "priority_id",
    "group_id",
    "category_id",
    "assignee_id",
    "state",
    "reported_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "rating",
    "ack_seconds",
    "ack_business_seconds",
    "resolve_seconds",
    "resolve_business_seconds",
    "response_outcome",
    "response_ended_at",
    "resolution_outcome",
    "resolution_ended_at",
    "refreshed_at",
)


def facts_upsert(tenant: Tenant, ids: Iterable[int] | None, now: datetime) -> int:
    """Write the fact rows of these incidents (or all the tenant's) in one statement, with the
    bucket of each duration."""
    source_sql, params = compiled(facts_source(tenant, ids, now))
    table = IncidentFact._meta.db_table
    columns = {name: f"src.f_{name}" for name in FACT_COLUMNS}
    columns |= {s.bucket: bucket_sql(f"src.f_{s.seconds}") for s in SERIES}
    names = ", ".join(columns)
    picked = ", ".join(columns.values())
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in list(columns)[2:])
    # "WHERE true": SQLite's parser needs it to tell ON CONFLICT from a join's ON.
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {picked} FROM ({source_sql}) AS src WHERE true "
        f"ON CONFLICT (tenant_id, incident_id) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fact_days(tenant: Tenant, ids: list[int], tz: ZoneInfo) -> dict[str, set[date]]:
    """The days (in the tenant's zone) on which the facts of these incidents are counted, per
    instant (DAY_COLUMNS), and those of their resolve and reopen events ("events"): one
    statement, a UNION of the distinct days of each instant."""
    facts = IncidentFact.objects.for_tenant(tenant).filter(incident_id__in=ids).order_by()
    events = (
        IncidentEvent.objects.for_tenant(tenant)
        .filter(incident_id__in=ids, kind=EventKind.TRANSITION, transition__in=ROLLUP_TRANSITIONS)
        .order_by()
    )
    sources = [(facts, column, column) for column in DAY_COLUMNS]
    sources.append((events, "created_at", "events"))
    days = [
        qs.filter(**{f"{column}__isnull": False})
        .annotate(source=Value(name, output_field=CharField()), day=TruncDate(column, tzinfo=tz))
        .values_list("source", "day")
        for qs, column, name in sources
    ]
    found: dict[str, set[date]] = {name: set() for _qs, _column, name in sources}
    for name, day in days[0].union(*days[1:]):  # UNION: each day once
        found[name].add(day if isinstance(day, date) else date.fromisoformat(day))
    return found
