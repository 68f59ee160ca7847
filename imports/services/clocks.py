"""SLA clocks of imported incidents, computed from their real timeline with the tenant's
calendars, so the dashboards show time to resolve and compliance for the imported period.

The rules are the live ones (escalation/clock_rules.py) applied to past instants: both
clocks start at the report; a hold whose kind the policy pauses on pauses them; the response
clock ends when work starts (the first move to diagnosing, the incident's acknowledged_at) or
at resolution; the resolution clock waits while resolved (breached already, it is set aside:
stopped at the resolve, clock_rules.set_aside) and carries on after a reopen; close ends it, met
or breached, and a cancellation with no outcome (stopped). The live desk never
takes a close or a cancellation back, but a source can (Closed or Canceled, then Active): the
clock then counts again from that move, and the stretch in between is kept as a pause.
Nothing fires: no alert rows (the sweep's, which the notifier sends) and no escalation runs
are written, and a still-open incident's thresholds that lie in the past are history too,
never alerts. Only thresholds after the import remain for the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from escalation.calendars import CalendarSpec, running_stretches
from escalation.clock_rules import (
    CANCELLED,
    CLOSED,
    PAUSE,
    REOPEN,
    RESOLVED,
    RESUME,
    STOP,
    ClockRule,
    Move,
    set_aside,
    split_due,
)
from escalation.models import ClockState, Metric, SlaClock, SlaPause, SlaPolicy
from escalation.services.defaults import CalendarSpecs, sla_policy_for
from incidents.models import EventKind, Incident, IncidentEvent, IncidentState, PriorityLevel
from incidents.models.incident import FINAL_STATES


@dataclass
class Walk:
    """One clock walked through an incident's moves: its pauses, and when it stopped."""

    pauses: list[list] = field(default_factory=list)  # [start, end or None, reason]
    stopped_at: datetime | None = None
    stopped_by: str = ""  # the state whose move stopped it

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None

    @property
    def resolved_since(self) -> datetime | None:
        """When the incident was resolved, if the walk ends with it resolved (paused so)."""
        return self.pauses[-1][0] if self.paused and self.pauses[-1][2] == RESOLVED else None

    @property
    def cancelled(self) -> bool:
        """Stopped by a cancellation: no SLA outcome, as live."""
        return self.stopped_by == "cancelled"

    def pause(self, at: datetime, reason: str) -> None:
        if self.stopped_at is None and not self.paused:
            self.pauses.append([at, None, reason])

    def resume(self, at: datetime) -> None:
        if self.paused:
            self.pauses[-1][1] = at

    def stop(self, at: datetime, by: str) -> None:
        if self.stopped_at is None:
            self.resume(at)
            self.stopped_at, self.stopped_by = at, by

    def reopen(self, at: datetime) -> None:
        """The source took a close or a cancellation back: the clock counts again, the time
        in between not. A clock that work or a resolution stopped (the response clock) stays
        stopped, as a live reopen leaves it."""
        if self.stopped_by not in FINAL_STATES:
            return
        self.pauses.append([self.stopped_at, at, CANCELLED if self.cancelled else CLOSED])
        self.stopped_at, self.stopped_by = None, ""

    def take(self, step: str, at: datetime, detail: str) -> None:
        if step == REOPEN:
            self.reopen(at)
        elif step == STOP:
            self.stop(at, by=detail)
        elif step == RESUME:
            self.resume(at)
        elif step == PAUSE:
            self.pause(at, detail)


def walk(rule: ClockRule, moves: list[Move]) -> Walk:
    """Apply the live clock rule to the incident's moves, in the order they happened."""
    w = Walk()
    for move in moves:
        for step, detail in rule.steps(move):
            w.take(step, move.at, detail)
    return w


def _stretches(start: datetime, w: Walk, end: datetime) -> list[tuple[datetime, datetime]]:
    pauses = [(a, b) for a, b, _ in w.pauses]
    return running_stretches(start, end, pauses)


def clock_from_history(clock: SlaClock, rule: ClockRule, w: Walk, now: datetime) -> list[SlaPause]:
    """Fill the clock's state from the walk; return its pause rows (unsaved)."""
    end = w.stopped_at or now
    stretches = _stretches(clock.started_at, w, end)
    spent = rule.counted(stretches)
    # A target passed in history is a breach at that instant, whatever ended the clock later.
    reached = rule.breach_instant(stretches, spent)
    clock.spent = min(spent, rule.target)
    clock.checkpoints, clock.next_check_at, clock.running_since = [], None, None
    if reached is not None:
        clock.state, clock.breached_at, clock.due_at = ClockState.BREACHED, reached, reached
    elif w.stopped_at is not None:
        clock.state = rule.ended_state(spent, cancelled=w.cancelled)
    elif w.paused:
        clock.state = ClockState.PAUSED
    else:
        _running(clock, rule, stretches, now)
    if w.stopped_at is not None:
        clock.stopped_at = w.stopped_at
        if clock.due_at is None and stretches:
            # The deadline the clock was running towards when it last ran.
            clock.due_at = rule.deadline(rule.counted(stretches[:-1]), stretches[-1][0])
    if w.resolved_since is not None:  # resolved: a breached resolution clock is set aside
        set_aside(clock, w.resolved_since)
    clock.warn_at = clock.warning_instant()  # what "Breaching soon" reads
    return [
        SlaPause(tenant_id=clock.tenant_id, clock=clock, started_at=a, ended_at=b, reason=why)
        for a, b, why in w.pauses
    ]


def _running(clock: SlaClock, rule: ClockRule, stretches: list, now: datetime) -> None:
    """Still open and counting: the thresholds ahead of the import, and none behind it (the
    target is ahead: a clock past it is breached)."""
    clock.state = ClockState.RUNNING
    clock.running_since = stretches[-1][0] if stretches else now
    clock.spent = rule.counted(stretches[:-1])
    _history, clock.checkpoints = split_due(
        rule.checkpoints_ahead(clock.spent, clock.running_since), now
    )
    clock.due_at = datetime.fromisoformat(clock.checkpoints[-1][1])
    clock.next_check_at = datetime.fromisoformat(clock.checkpoints[0][1])


class ClockWriter:
    """Writes the clocks of each batch; policies and calendars are cached for the run."""

    def __init__(self) -> None:
        self.policies: dict[int, SlaPolicy] = {}
        self.specs = CalendarSpecs()

    def _policy(self, level: PriorityLevel) -> tuple[SlaPolicy, CalendarSpec]:
        policy = self.policies.get(level.pk)
        if policy is None:
            policy = self.policies[level.pk] = sla_policy_for(level)
        return policy, self.specs.of(policy.calendar)

    def write(self, tenant_id: int, incidents: list[Incident]) -> None:
        """Both clocks of each incident, from its whole stored timeline (an incident given new
        rows is computed again, its clocks updated in place)."""
        if not incidents:
            return
        moves = _moves(tenant_id, [i.pk for i in incidents])
        existing = {
            (c.incident_id, c.metric): c
            for c in SlaClock.objects.for_tenant(tenant_id).filter(incident__in=incidents)
        }
        now = timezone.now()
        clocks, pauses = [], []
        for incident in incidents:
            policy, spec = self._policy(incident.priority)
            for metric in (Metric.RESPONSE, Metric.RESOLUTION):
                clock = existing.get((incident.pk, metric)) or SlaClock(
                    tenant_id=tenant_id, incident=incident, metric=metric
                )
                _target(clock, incident, policy, metric)
                rule = ClockRule.of(clock, spec)
                pauses += clock_from_history(
                    clock, rule, walk(rule, moves.get(incident.pk, [])), now
                )
                clocks.append(clock)
        _save(tenant_id, clocks, pauses, [c for c in clocks if c.pk])


def _target(clock: SlaClock, incident: Incident, policy: SlaPolicy, metric: str) -> None:
    clock.policy, clock.calendar = policy, policy.calendar
    clock.priority_slug = incident.priority.slug
    clock.target_seconds = policy.target_for(metric)
    clock.warn_percents, clock.pause_on = list(policy.warn_percents), list(policy.pause_on)
    clock.started_at = incident.reported_at
    clock.breached_at = clock.stopped_at = clock.due_at = None


def _moves(tenant_id: int, incident_ids: list[int]) -> dict[int, list[Move]]:
    """Each incident's state changes in the order they were recorded; a source time earlier
    than the one before it (the export has a few) counts as the one before, so no stretch of
    a clock runs backwards. The first move to diagnosing acknowledges the incident, as the
    import stamps its acknowledged_at."""
    rows = (
        IncidentEvent.objects.for_tenant(tenant_id)
        .filter(incident_id__in=incident_ids, kind=EventKind.TRANSITION)
        .order_by("incident_id", "id")
        .values_list("incident_id", "created_at", "to_state", "data")
    )
    moves: dict[int, list[Move]] = {}
    for incident_id, at, target, data in rows:
        found = moves.setdefault(incident_id, [])
        before = found[-1] if found else Move(at=at, target="")
        acknowledged = before.acknowledged or target == IncidentState.DIAGNOSING
        hold_reason = (data or {}).get("hold_reason") or ""
        found.append(Move(max(at, before.at), target, hold_reason, acknowledged))
    return moves


def _save(tenant_id: int, clocks: list, pauses: list, updated: list) -> None:
    if updated:
        SlaPause.objects.for_tenant(tenant_id).filter(clock__in=updated).delete()
        SlaClock.objects.bulk_update(
            updated,
            ["policy", "calendar", "priority_slug", "target_seconds", "warn_percents",
             "pause_on", "state", "started_at", "spent", "running_since", "due_at",
             "next_check_at", "checkpoints", "breached_at", "stopped_at", "warn_at"],
            batch_size=500,
        )  # fmt: skip
    SlaClock.objects.bulk_create([c for c in clocks if not c.pk], batch_size=1000)
    SlaPause.objects.bulk_create(pauses, batch_size=1000)
