"""What the dashboards read: daily rollups and cached figures, and the facts they come from.

Nothing here is a source of truth. The incidents, their events and their SLA clocks are; these
tables are rebuilt from them by `dashboards.services` (a beat task every few minutes, and
`manage.py rebuild_dashboard_rollups`): a fact row per incident, from which the daily rollups
are recomputed day by day, so that a dashboard over a tenant with half a million incidents
reads a few thousand rollup rows instead of scanning the incidents.

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
    return models.ForeignKey(
        model,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **kwargs,
    )


class NumberList(models.Field):
    """A list of numbers: a PostgreSQL array (double precision[] or bigint[]), JSON text on
    other databases. Written and read in SQL by dashboards/sql.py (array_agg / unnest, or
    json_group_array / json_each); Python sees a list."""

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
        return values if connection.vendor == "postgresql" else json.dumps(values)


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
        indexes = [
            models.Index(fields=["tenant", "reported_at"], name="fact_reported"),
            models.Index(
                fields=["tenant", "acknowledged_at"],
                condition=Q(acknowledged_at__isnull=False),
                name="fact_acknowledged",
            ),
            models.Index(
                fields=["tenant", "resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="fact_resolved",
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


LISTS = (
    "ack_seconds",
    "ack_business_seconds",
    "resolve_seconds",
    "resolve_business_seconds",
    "resolved_by",
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
    # The durations themselves (seconds), so medians over any period stay exact: acknowledged
    # on this day, and resolved on this day. Wall and business lists are aligned (null where
    # an incident has no clock). And who resolved them (assignee ids).
    ack_seconds = NumberList()
    ack_business_seconds = NumberList()
    resolve_seconds = NumberList()
    resolve_business_seconds = NumberList()
    resolved_by = NumberList(integers=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "day"], name="rollup_day")]

    def __str__(self) -> str:
        return f"rollup {self.day} g{self.group_id} c{self.category_id} p{self.priority_id}"


class RollupState(TenantOwned):
    """Where the tenant's refresh stands: figures are complete up to `refreshed_at`."""

    refreshed_at = models.DateTimeField(null=True)
    # Moves on whenever a refresh changed a rollup row: the key of FiguresCache entries.
    version = models.PositiveIntegerField(default=0)
    warmed_on = models.DateField(null=True)  # the tenant's day of the warmed figures
    last_incident_id = models.BigIntegerField(default=0)
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
