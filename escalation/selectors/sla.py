"""Reads with business meaning: an incident's clocks in words and colours, their explanation,
and the incidents about to breach. Requesters get nothing: SLA internals are the desk's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from escalation.calendars import Segment, business_time_between, explain
from escalation.models import (
    ClockState,
    EscalationRun,
    Metric,
    RunState,
    SlaAlert,
    SlaClock,
    SlaPolicy,
)
from escalation.services.clocks import CANCELLED, CLOSED, RESOLVED
from escalation.services.defaults import CalendarSpecs, calendar_spec, sla_policy_for
from incidents.models import HoldReason, Incident, PriorityLevel
from tenancy.actors import Actor
from tenancy.models import Tenant

OK, WARNING, BREACHED = "ok", "warning", "breached"


def duration_words(delta: timedelta) -> str:
    """'2 d 3 h', '1 h 20 min', '45 s': the two largest units, as a person reads a timer."""
    seconds = max(int(delta.total_seconds()), 0)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


@dataclass
class ClockView:
    clock: SlaClock
    label: str
    colour: str
    words: str
    spent: timedelta
    target: timedelta
    due_at: datetime | None
    segments: list[Segment] = field(default_factory=list)

    @property
    def target_words(self) -> str:
        return duration_words(self.target)

    @property
    def percent_used(self) -> int:
        return min(int(self.spent / self.target * 100), 999) if self.target else 0


def clock_spent(clock: SlaClock, now: datetime, spec=None) -> timedelta:
    if clock.state != ClockState.RUNNING or clock.running_since is None:
        return clock.spent
    spec = spec or calendar_spec(clock.calendar)
    return clock.spent + business_time_between(spec, clock.running_since, now)


def _colour(clock: SlaClock, spent: timedelta, target: timedelta) -> str:
    if clock.state == ClockState.BREACHED or spent >= target:
        return BREACHED
    first_warning = min([int(p) for p in clock.warn_percents] or [100])
    if (
        clock.state in (ClockState.RUNNING, ClockState.PAUSED)
        and spent >= target * first_warning / 100
    ):
        return WARNING
    return OK


def _words(clock: SlaClock, spent: timedelta, target: timedelta, now: datetime) -> str:
    left = duration_words(target - spent)
    if clock.state == ClockState.BREACHED:
        ago = duration_words(now - clock.breached_at) if clock.breached_at else ""
        return f"Breached {ago} ago" if clock.stopped_at is None else "Breached"
    if clock.state == ClockState.MET:
        return f"Met ({duration_words(spent)} of {duration_words(target)})"
    if clock.state == ClockState.STOPPED:
        return "Stopped (incident cancelled)"
    if clock.state == ClockState.PAUSED:
        return f"Paused, {left} left"
    if spent >= target:
        return "Breached just now"
    return f"{left} left"


def _pause_label(reason: str) -> str:
    if reason == RESOLVED:
        return "Resolved: the resolution clock waits while resolved"
    if reason == CANCELLED:
        return "Cancelled: the clock did not count until the cancellation was taken back"
    if reason == CLOSED:
        return "Closed: the clock did not count until the incident was reopened"
    label = HoldReason(reason).label if reason in HoldReason.values else reason
    return f"On hold ({label.lower()}): this hold kind pauses the clock"


def clock_explain(clock: SlaClock, now: datetime, spec=None) -> list[Segment]:
    """Counted and not-counted segments from the start until the clock ended (or now)."""
    spec = spec or calendar_spec(clock.calendar)
    end = clock.breached_at if clock.state == ClockState.BREACHED else clock.stopped_at
    pauses = [(p.started_at, p.ended_at, _pause_label(p.reason)) for p in clock.pauses.all()]
    return explain(spec, clock.started_at, min(end or now, now), pauses)


def clocks_for_incident(
    incident: Incident,
    *,
    actor: Actor | None = None,
    explain: bool = False,
    now: datetime | None = None,
) -> list[ClockView]:
    """The incident's clocks for the desk (empty for a requester)."""
    if actor is not None and not actor.is_agent_or_above:
        return []
    now = now or timezone.now()
    clocks = (
        SlaClock.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident)
        .select_related("calendar")
        .prefetch_related("pauses")
    )
    views = []
    specs = CalendarSpecs()
    for clock in sorted(clocks, key=lambda c: c.metric != Metric.RESPONSE):  # response first
        spec = specs.of(clock.calendar)
        spent, target = clock_spent(clock, now, spec), timedelta(seconds=clock.target_seconds)
        views.append(
            ClockView(
                clock=clock,
                label=clock.get_metric_display(),
                colour=_colour(clock, spent, target),
                words=_words(clock, spent, target, now),
                spent=spent,
                target=target,
                due_at=clock.due_at if clock.state == ClockState.RUNNING else None,
                segments=clock_explain(clock, now, spec) if explain else [],
            )
        )
    return views


def alerts_for_incident(incident: Incident) -> QuerySet[SlaAlert]:
    return (
        SlaAlert.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk)
        .select_related("clock", "acknowledged_by", "notify_user")
        .order_by("-due_at", "-id")
    )


def climb_for_incident(incident: Incident) -> EscalationRun | None:
    return (
        EscalationRun.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, state=RunState.CLIMBING)
        .first()
    )


@dataclass(frozen=True)
class ClockBadge:
    colour: str
    words: str


def clock_badge(clock: SlaClock, now: datetime | None = None) -> ClockBadge:
    """A clock's colour and words for a list row, without calendar arithmetic: a running
    clock reads its stored due time and checkpoints (both in working time already), so a page
    of rows costs no query per calendar. Running clocks say the wall-clock time until due."""
    now = now or timezone.now()
    target = timedelta(seconds=clock.target_seconds)
    if clock.state != ClockState.RUNNING or clock.due_at is None:
        return ClockBadge(
            _colour(clock, clock.spent, target), _words(clock, clock.spent, target, now)
        )
    if clock.due_at <= now:
        return ClockBadge(BREACHED, "Breached just now")
    first_warning = min([int(p) for p in clock.warn_percents] or [100])
    passed = {int(p) for p, at in clock.checkpoints if datetime.fromisoformat(at) <= now}
    ahead = {int(p) for p, _ in clock.checkpoints} - passed
    warned = first_warning < 100 and (first_warning in passed or first_warning not in ahead)
    words = f"due in {duration_words(clock.due_at - now)}"
    return ClockBadge(WARNING if warned else OK, words)


def sla_policies_for_tenant(tenant: Tenant) -> list[SlaPolicy]:
    """One policy per active priority level, most urgent first (defaults made on first use)."""
    levels = PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank")
    rows = SlaPolicy.objects.for_tenant(tenant).filter(priority__in=levels)
    stored = {policy.priority_id: policy for policy in rows.select_related("calendar")}
    policies = []
    for level in levels:
        policy = stored.get(level.pk) or sla_policy_for(level)  # a level added since install
        policy.priority = level  # spares a query per level when the caller reads its names
        policies.append(policy)
    return policies
