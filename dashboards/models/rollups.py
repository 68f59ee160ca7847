"""What the dashboards read: daily rollups, running totals of durations by bucket and cached
figures, and the facts they come from.

Nothing here is a source of truth. The incidents, their events and their SLA clocks are; these
tables are rebuilt from them by `dashboards.services` (a beat task every few minutes, and
`manage.py rebuild_dashboard_rollups`): a fact row per incident, from which the daily rollups
are recomputed day by day and the running totals from a day on, so that a dashboard over a
tenant with half a million incidents reads a few thousand rollup rows, two rows of running
totals per priority level and a few buckets' durations instead of scanning the incidents.

Dimension columns (group, category, priority, assignee) carry no database constraint: a row
here must never block deleting a group or a user, and the next refresh brings it in line.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.db.models import Q

from tenancy.models import TenantOwned


def _dimension(model: str, **kwargs) -> models.ForeignKey:
    # No index of its own: every read goes through the tenant's indexes by instant or day, and
    # a lone index on a dimension only tempts the planner into scanning all of its history.
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kwargs,
    )


class NumberList(models.Field):
    """A list of numbers: a PostgreSQL array (double precision[] or bigint[]), JSON text on
    other databases; Python sees a list. Sent to PostgreSQL as an array literal: psycopg2
    adapts a long list number by number, several times slower."""

    description = "A list of numbers"

    def __init__(self, *args, integers: bool = False, **kwargs) -> None:
        self.integers = integers
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.integers:
            kwargs["integers"] = True
        return name, path, args, kwargs

    def db_type(self, connection) -> str:
        if connection.vendor == "postgresql":
            return "bigint[]" if self.integers else "double precision[]"
        return "text"

    def from_db_value(self, value, expression, connection) -> list:
        if value is None:
            return []
        return json.loads(value) if isinstance(value, str) else list(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        values = list(value or [])
        if connection.vendor == "postgresql":
            return "{" + ",".join(map(repr, values)) + "}"
        return json.dumps(values)


class Outcome(models.TextChoices):
    NONE = "", "Not ended"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"


class IncidentFact(TenantOwned):
    """One incident as the dashboards see it: its dimensions, step times, durations (wall and
    business seconds) and the outcome of its two SLA clocks."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="dashboard_fact"
    )
    priority = _dimension("incidents.PriorityLevel")
    group = _dimension("incidents.AssignmentGroup")
    category = _dimension("incidents.Category")
    assignee = _dimension(settings.AUTH_USER_MODEL)
    state = models.CharField(max_length=20)
    reported_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True)
    resolved_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    rating = models.PositiveSmallIntegerField(null=True)
    # Durations in seconds: wall time from the incident's timestamps, business time from its
    # SLA clocks (null when the incident has no clock, e.g. imported history).
    ack_seconds = models.FloatField(null=True)
    ack_business_seconds = models.FloatField(null=True)
    resolve_seconds = models.FloatField(null=True)
    resolve_business_seconds = models.FloatField(null=True)
    # The bucket of each duration (dashboards/selectors/histograms.py), null with the duration.
    ack_bucket = models.SmallIntegerField(null=True)
    ack_business_bucket = models.SmallIntegerField(null=True)
    resolve_bucket = models.SmallIntegerField(null=True)
    resolve_business_bucket = models.SmallIntegerField(null=True)
    response_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    response_ended_at = models.DateTimeField(null=True)
    resolution_outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    resolution_ended_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident"], name="incidentfact_unique"),
        ]
        # One per instant a measure is counted on; partial, so open incidents cost nothing.
        # Those of the durations' instants carry what bucket counts read (index-only scans on
        # PostgreSQL), and each duration has one by bucket and instant: the look inside a
        # bucket reads just that bucket's durations of the period.
        indexes = [
            models.Index(fields=["tenant", "reported_at"], name="fact_reported"),
            models.Index(
                fields=["tenant", "acknowledged_at"],
                condition=Q(acknowledged_at__isnull=False),
                include=["priority", "group", "category", "ack_bucket", "ack_business_bucket"],
                name="fact_acknowledged_cover",
            ),
            models.Index(
                fields=["tenant", "resolved_at"],
                condition=Q(resolved_at__isnull=False),
                include=[
                    "priority",
                    "group",
                    "category",
                    "assignee",
                    "resolve_bucket",
                    "resolve_business_bucket",
                ],
                name="fact_resolved_cover",
            ),
            *(
                models.Index(
                    fields=["tenant", bucket, instant],
                    condition=Q(**{f"{bucket}__isnull": False}),
                    include=[seconds, "priority", "group", "category"],
                    name=f"fact_{bucket}",
                )
                for instant, seconds, bucket in (
                    ("acknowledged_at", "ack_seconds", "ack_bucket"),
                    ("acknowledged_at", "ack_business_seconds", "ack_business_bucket"),
                    ("resolved_at", "resolve_seconds", "resolve_bucket"),
                    ("resolved_at", "resolve_business_seconds", "resolve_business_bucket"),
                )
            ),
            models.Index(
                fields=["tenant", "closed_at"],
                condition=Q(closed_at__isnull=False),
                name="fact_closed",
            ),
            models.Index(
                fields=["tenant", "response_ended_at"],
                condition=Q(response_ended_at__isnull=False),
                name="fact_response_ended",
            ),
            models.Index(
                fields=["tenant", "resolution_ended_at"],
                condition=Q(resolution_ended_at__isnull=False),
                name="fact_resolution_ended",
            ),
        ]

    def __str__(self) -> str:
        return f"fact of incident {self.incident_id}"


# The transitions the rollups count; a refresh recomputes the days they happened on.
ROLLUP_TRANSITIONS = ("resolve", "reopen")
COUNTERS = (
    "created",
    "resolved",
    "resolutions",
    "reopens",
    "response_met",
    "response_breached",
    "resolution_met",
    "resolution_breached",
    "closed",
    "rated",
    "rating_sum",
    "rating_1",
    "rating_2",
    "rating_3",
    "rating_4",
    "rating_5",
)


class DailyRollup(TenantOwned):
    """Counts and sums of one day (in the tenant's time zone) for one combination of group,
    category and priority. Each counter is counted on its own instant: created on the report,
    resolved on the (latest) resolution, SLA outcomes when the clock ended, satisfaction on
    closure, resolutions and reopens on their transition events."""

    day = models.DateField()
    group = _dimension("incidents.AssignmentGroup")
    category = _dimension("incidents.Category")
    priority = _dimension("incidents.PriorityLevel")
    created = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    resolutions = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    response_met = models.PositiveIntegerField(default=0)
    response_breached = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_breached = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_1 = models.PositiveIntegerField(default=0)
    rating_2 = models.PositiveIntegerField(default=0)
    rating_3 = models.PositiveIntegerField(default=0)
    rating_4 = models.PositiveIntegerField(default=0)
    rating_5 = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="rollup_day")]

    def __str__(self) -> str:
        return f"rollup {self.day} g{self.group_id} c{self.category_id} p{self.priority_id}"


class CumulativeCounts(TenantOwned):
    """Running totals of one priority level (or of incidents without one) from the tenant's
    first day through `day`: how many durations fell in each bucket (the arrays are indexed by
    bucket, dashboards/selectors/histograms.py), and how many incidents each assignee resolved.
    A row exists for every day from the level's first duration to
    `RollupState.histograms_until`, so a period's counts are the row of its last day minus the
    row of the day before it."""

    day = models.DateField()
    priority = _dimension("incidents.PriorityLevel")
    ack_seconds = NumberList(integers=True)
    ack_business_seconds = NumberList(integers=True)
    resolve_seconds = NumberList(integers=True)
    resolve_business_seconds = NumberList(integers=True)
    resolvers = NumberList(integers=True)  # assignee ids, ascending
    resolutions = NumberList(integers=True)  # incidents each of them resolved

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="cumulativecounts_day")]

    def __str__(self) -> str:
        return f"counts through {self.day} p{self.priority_id}"


class RollupState(TenantOwned):
    """Where the tenant's refresh stands: figures are complete up to `refreshed_at`."""

    refreshed_at = models.DateTimeField(null=True)
    # Moves on whenever a refresh changed a rollup row: the key of FiguresCache entries.
    version = models.PositiveIntegerField(default=0)
    warmed_on = models.DateField(null=True)  # the tenant's day of the warmed figures
    last_incident_id = models.BigIntegerField(default=0)
    histograms_until = models.DateField(null=True)  # the last day of CumulativeCounts rows
    rebuilt_at = models.DateTimeField(null=True)
    # The span the tenant's CalendarWindow rows cover (every calendar alike).
    windows_from = models.DateTimeField(null=True)
    windows_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="rollupstate_one")]


class FiguresCache(TenantOwned):
    """The figures of one period and filter set, computed from the rollups of `version`."""

    key = models.CharField(max_length=120)
    version = models.PositiveIntegerField()
    data = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="figurescache_unique_key"),
        ]


class CalendarWindow(TenantOwned):
    """A working interval of a business calendar, with the working seconds counted before it.

    Business time between two instants is then W(b) - W(a), where W(t) is the working time
    up to t: one indexed lookup each, so SQL can count business time for many clocks at once
    (used for the time an SLA clock ran on after its breach, which the clock does not count).
    """

    calendar = models.ForeignKey(
        "escalation.BusinessCalendar", on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    cum_seconds = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "calendar", "start"], name="calendarwindow_start"),
        ]
