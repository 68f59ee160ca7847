"""SLA calendars, policies, clocks and alerts, and escalation policies and their runs.

Imported by escalation/models.py so Django finds them; kept apart from the outbox so the two
halves of issue 5 can change side by side.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.models import Tenant, TenantOwned


def default_weekly_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 09:00 to 17:00 (keys are weekday numbers, Monday = 0)."""
    return {str(d): [["09:00", "17:00"]] if d < 5 else [] for d in range(7)}


def default_warn_percents() -> list[int]:
    return [50, 80]


def default_pause_on() -> list[str]:
    return ["awaiting_caller"]


class BusinessCalendar(TenantOwned):
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC")
    always_open = models.BooleanField(
        default=False, help_text="Around the clock (24x7): every second counts, holidays too."
    )
    weekly_hours = models.JSONField(default=default_weekly_hours)
    holiday_country = models.CharField(
        max_length=8, blank=True, help_text="Country whose public holidays are days off (ISO code)."
    )
    holiday_subdivision = models.CharField(max_length=16, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Used for the confirmation window and for new policies."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="calendar_unique_name"),
            models.UniqueConstraint(
                fields=["tenant"], condition=Q(is_default=True), name="calendar_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarHoliday(TenantOwned):
    """A day off of the tenant's own, on top of the country preset."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days_off"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "calendar", "date"], name="calendarholiday_unique_date"
            ),
        ]


class Metric(models.TextChoices):
    RESPONSE = "response", "Response"
    RESOLUTION = "resolution", "Resolution"


class SlaPolicy(TenantOwned):
    """Targets for one priority level. Targets are working seconds of the calendar."""

    priority = models.ForeignKey(
        "incidents.PriorityLevel", on_delete=models.CASCADE, related_name="+"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    response_seconds = models.PositiveIntegerField()
    resolution_seconds = models.PositiveIntegerField()
    warn_percents = models.JSONField(default=default_warn_percents)
    pause_on = models.JSONField(default=default_pause_on)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "priority"], name="slapolicy_unique_priority"
            ),
        ]

    def target_for(self, metric: str) -> int:
        return self.response_seconds if metric == Metric.RESPONSE else self.resolution_seconds


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"
    STOPPED = "stopped", "Stopped (cancelled)"


LIVE_CLOCK_STATES = (ClockState.RUNNING, ClockState.PAUSED)

# Clocks that can still breach, or have breached and still count against an open incident:
# running or breached, never stopped (a met, cancelled or acknowledged clock is stopped). Paused
# clocks are out: they have no due time. The condition of the "Breaching soon" indexes.
# The invariant "Breaching soon" relies on (it reads no incident state): a live clock belongs to
# an open incident. Resolving stops the response clock and pauses the resolution clock, or sets
# it aside when it breached already (escalation.clock_rules.set_aside); close and cancel stop.
LIVE_CLOCK_CONDITION = Q(
    state__in=["running", "breached"], stopped_at__isnull=True, due_at__isnull=False
)


def first_warning_percent(warn_percents: list) -> int:
    """The policy's first warning (1-99), or 100 (the breach) when it warns at none: the
    threshold where a clock turns amber on the desk and enters "Breaching soon"."""
    return min([int(p) for p in warn_percents if 0 < int(p) < 100] or [100])


class SlaClock(TenantOwned):
    """One target of one incident. While running, `checkpoints` holds the instants still to
    alert on ([percent, ISO time], ascending; 100 is the breach) and next_check_at the first
    of them: the sweep needs no calendar arithmetic, only the clock row."""

    # The tenant leads every composite index of this hot table; its own index would only
    # slow the writes of the sweep.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="sla_clocks"
    )
    metric = models.CharField(max_length=12, choices=Metric.choices)
    # No index: policies and calendars are deleted rarely, and every index costs the sweep.
    policy = models.ForeignKey(
        SlaPolicy,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    priority_slug = models.CharField(max_length=32)
    target_seconds = models.PositiveIntegerField()
    warn_percents = models.JSONField(default=default_warn_percents)
    pause_on = models.JSONField(default=default_pause_on)
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    started_at = models.DateTimeField()
    # Working time counted before running_since; the running stretch is added on read.
    spent = models.DurationField(default=timedelta)
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    # When the clock reaches its policy's first warning (the moment its badge turns amber), set
    # with due_at (escalation/services/clocks.py: _schedule): "Breaching soon" is the live
    # clocks with warn_at <= now, read from an index (slaclock_tenant_live_warn), not computed
    # per row. Once passed it stays put; the breach leaves it (at the latest the breach time).
    warn_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    checkpoints = models.JSONField(default=list, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "metric"], name="slaclock_unique_metric"
            ),
        ]
        indexes = [
            # The sweep's one query: running clocks whose next check has come, across tenants.
            # Partial, so paused and finished clocks cost it nothing.
            models.Index(
                fields=["next_check_at"],
                condition=Q(state="running"),
                name="slaclock_due",
            ),
            models.Index(fields=["tenant", "state", "due_at"], name="slaclock_tenant_due"),
            # "Breaching soon" (escalation/selectors/breaching.py): its page walks the live
            # clocks by due time (the keyset is due_at, id), its capped count the warned ones.
            models.Index(
                fields=["tenant", "due_at", "id"],
                condition=LIVE_CLOCK_CONDITION,
                name="slaclock_tenant_live_due",
            ),
            models.Index(
                fields=["tenant", "warn_at"],
                condition=LIVE_CLOCK_CONDITION,
                name="slaclock_tenant_live_warn",
            ),
            # The dashboards' refresh: clocks the sweep breached since its last run (a breach
            # touches no incident row, so the incidents' updated_at does not show it).
            models.Index(
                fields=["tenant", "breached_at"],
                condition=Q(breached_at__isnull=False),
                name="slaclock_tenant_breached",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric} clock of {self.incident_id} ({self.state})"

    def warning_instant(self) -> datetime | None:
        """What warn_at holds: for a running clock the instant of its first warning among the
        checkpoints ahead, or, when that is behind it already, the start of its running stretch
        (any instant passed will do); for a breached one the warning it had, else the breach."""
        if self.state == ClockState.BREACHED:
            return self.warn_at or self.breached_at or self.due_at
        if self.state != ClockState.RUNNING:
            return None
        first = first_warning_percent(self.warn_percents)
        for percent, at in self.checkpoints:
            if int(percent) == first:
                return datetime.fromisoformat(str(at))
        return self.running_since


class SlaPause(TenantOwned):
    """A stretch during which a clock did not count: a hold whose kind pauses, or resolved."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=24)

    class Meta:
        ordering = ["started_at"]
        indexes = [models.Index(fields=["tenant", "clock", "started_at"], name="slapause_clock")]


class NotifyKind(models.TextChoices):
    ASSIGNEE = "assignee", "The assignee (or the group when there is none)"
    GROUP = "group", "Every agent of the group"
    GROUP_LEAD = "group_lead", "The group's lead"
    MANAGER = "manager", "The desk's managers"
    USER = "user", "A named person"
    SCHEDULE = "schedule", "Whoever is on call in a schedule"


class EscalationPolicy(TenantOwned):
    name = models.CharField(max_length=100)
    group = models.ForeignKey(
        "incidents.AssignmentGroup",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Leave empty for the desk-wide policy.",
    )
    repeat_count = models.PositiveSmallIntegerField(
        default=0, help_text="How many more times to climb all the levels if nobody acknowledges."
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Count the waits in this calendar's working time; empty: around the clock.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "group"],
                condition=Q(group__isnull=False),
                name="escalationpolicy_one_per_group",
            ),
            models.UniqueConstraint(
                fields=["tenant"],
                condition=Q(group__isnull=True),
                name="escalationpolicy_one_default",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EscalationLevel(TenantOwned):
    """'After N seconds without acknowledgement, notify X'; N counts from the level before
    (the first level: from the escalation)."""

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField()
    after_seconds = models.PositiveIntegerField()
    notify = models.CharField(max_length=12, choices=NotifyKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # notify=schedule: whoever is on call in it when the level fires (oncall/, docs/oncall.md).
    # PROTECT: a schedule a policy pages cannot vanish from under it.
    schedule = models.ForeignKey(
        "oncall.Schedule", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "policy", "position"], name="escalationlevel_unique_position"
            ),
        ]


class RunState(models.TextChoices):
    CLIMBING = "climbing", "Climbing"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    FINISHED = "finished", "Every level notified"
    STOPPED = "stopped", "Stopped"


class EscalationRun(TenantOwned):
    """The climb of one incident up its escalation policy, from its first escalation until
    someone acknowledges. `level` and `repeat` name the next step to fire. The desk's word is
    "climb" (escalation/services/climb.py); this row keeps the name "run" that its table, the
    API's `EscalationRun` and RunState were given first, and nothing else uses it."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="escalation_runs"
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.CLIMBING)
    started_at = models.DateTimeField()
    level = models.PositiveSmallIntegerField(default=1)
    repeat = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_via = models.CharField(max_length=20, blank=True)
    # A hierarchical climb goes up the line (the group's lead, then managers), never back down
    # to the team, and never tells the person who escalated (escalation/services/climb.py).
    kind = models.CharField(max_length=12, default="functional")
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident"], name="escalationrun_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"], condition=Q(state="climbing"), name="escalationrun_due"
            ),
        ]


class AlertKind(models.TextChoices):
    WARNING = "warning", "SLA warning"
    BREACH = "breach", "SLA breached"
    ESCALATION = "escalation", "Escalation"
    ASSIGNED = "assigned", "Escalated to you"


class SlaAlert(TenantOwned):
    """A warning, breach or escalation step, written once (its natural key is unique) and
    notified afterwards by the notifier, which sets notified_at with the outbox rows.

    `incident` carries no database constraint on purpose: the sweep inserts alerts while
    holding clock locks, and a foreign-key check would take a KEY SHARE lock on the incident
    row that an incident service may hold FOR UPDATE while it waits for the same clock: a
    deadlock. The clock and run foreign keys point at rows the sweep already holds."""

    # The tenant leads every composite index of this hot table; its own index would only
    # slow the writes of the sweep.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=AlertKind.choices)
    clock = models.ForeignKey(
        SlaClock, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    run = models.ForeignKey(
        EscalationRun, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    repeat = models.PositiveSmallIntegerField(null=True, blank=True)
    notify = models.CharField(max_length=12, blank=True)
    notify_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    due_at = models.DateTimeField(help_text="When the threshold or level was reached.")
    # A level that pages a schedule: who was on call when it fired, or that the schedule's
    # fallback was paged because nobody was (the timeline shows it).
    # A database default as well: the sweep's SQL inserts alerts without naming it.
    on_call_note = models.CharField(max_length=200, blank=True, default="", db_default="")
    # Who escalated: nobody is alerted of their own escalation.
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    recipients = models.JSONField(default=list, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    acknowledged_via = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "clock", "threshold"],
                condition=Q(clock__isnull=False),
                name="slaalert_once_per_threshold",
            ),
            models.UniqueConstraint(
                fields=["tenant", "incident", "level", "repeat"],
                condition=Q(kind="escalation"),
                name="slaalert_once_per_level",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "incident", "due_at"], name="slaalert_incident"),
            models.Index(
                fields=["id"], condition=Q(notified_at__isnull=True), name="slaalert_todo"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.incident_id}"


class AuditStatus(models.Model):
    """Platform-wide result of the latest clock audit (one row), shown on /readyz."""

    checked_at = models.DateTimeField()
    overdue = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"audit {self.checked_at:%Y-%m-%d %H:%M:%S}: {self.overdue} overdue"

    @property
    def ok(self) -> bool:
        return self.overdue == 0


class SweepStatus(models.Model):
    """When the sweep last finished (one row): the dead-man check (escalation/selectors/
    operations.py) raises the alarm when it is older than three intervals while clocks are due."""

    completed_at = models.DateTimeField()
    alerts = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"sweep completed {self.completed_at:%Y-%m-%d %H:%M:%S}"
