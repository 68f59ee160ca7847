"""SLA clocks of imported incidents, computed from their real timeline with the tenant's
calendars, so the dashboards show time to resolve and compliance for the imported period.

The rules are the live ones (escalation/services/clocks.py) applied to past instants: both
clocks start at the report; a hold whose kind the policy pauses on pauses them; the response
clock ends when work starts (the first move to diagnosing, the incident's acknowledged_at) or
at resolution; the resolution clock waits while resolved and carries on after a reopen; close
ends it, met or breached, and a cancellation with no outcome (stopped). The live desk never
takes a close or a cancellation back, but a source can (Closed or Canceled, then Active): the
clock then counts again from that move, and the stretch in between is kept as a pause.
Nothing fires: no alert rows (the sweep's, which the notifier sends) and no escalation runs
are written, and a still-open incident's thresholds that lie in the past are history too,
never alerts. Only thresholds after the import remain for the sweep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from escalation.calendars import (
    ZERO,
    CalendarSpec,
    add_business_time,
    business_time_between,
    instant_reaching,
    running_stretches,
)
from escalation.models import ClockState, Metric, SlaClock, SlaPause, SlaPolicy
from escalation.services.clocks import BREACH, CANCELLED, CLOSED, RESOLVED
from escalation.services.defaults import CalendarSpecs, sla_policy_for
from incidents.models import EventKind, Incident, IncidentEvent, PriorityLevel
from incidents.models.incident import FINAL_STATES, OPEN_STATES

Move = tuple[datetime, str, str, str, str]  # at, transition, from state, to state, hold reason


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


def walk(metric: str, pause_on: list[str], moves: list[Move]) -> Walk:
    """Apply the live clock rules to the incident's moves, in the order they happened."""
    w = Walk()
    response = metric == Metric.RESPONSE
    for at, _name, source, target, hold_reason in moves:
        if target in OPEN_STATES:
            w.reopen(at)
        if target in ("closed", "cancelled") or (response and target in ("diagnosing", "resolved")):
            w.stop(at, by=target)
            continue
        if source in ("on_hold", "resolved") or target == "on_hold":
            w.resume(at)  # a hold or a resolution ends (a reopen), or the hold changes kind
        if target == "on_hold" and hold_reason in pause_on:
            w.pause(at, hold_reason)
        elif target == "resolved":
            w.pause(at, RESOLVED)
    return w


def _stretches(start: datetime, w: Walk, end: datetime) -> list[tuple[datetime, datetime]]:
    pauses = [(a, b) for a, b, _ in w.pauses]
    return running_stretches(start, end, pauses)


def clock_from_history(
    clock: SlaClock, spec: CalendarSpec, w: Walk, now: datetime
) -> list[SlaPause]:
    """Fill the clock's state from the walk; return its pause rows (unsaved)."""
    target = timedelta(seconds=clock.target_seconds)
    end = w.stopped_at or now
    stretches = _stretches(clock.started_at, w, end)
    spent = sum((business_time_between(spec, a, b) for a, b in stretches), ZERO)
    reached = instant_reaching(spec, list(stretches), target) if spent >= target else None
    clock.spent = min(spent, target)
    clock.checkpoints, clock.next_check_at, clock.running_since = [], None, None
    if reached is not None:
        clock.state, clock.breached_at, clock.due_at = ClockState.BREACHED, reached, reached
    elif w.stopped_at is not None:
        clock.state = ClockState.STOPPED if w.cancelled else ClockState.MET
    elif w.paused:
        clock.state = ClockState.PAUSED
    else:
        _running(clock, spec, stretches, now)
    if w.stopped_at is not None:
        clock.stopped_at = w.stopped_at
        if clock.due_at is None and stretches:
            # The deadline the clock was running towards when it last ran.
            clock.due_at = instant_reaching(spec, [*stretches[:-1], (stretches[-1][0], None)],
                                            target)  # fmt: skip
    return [
        SlaPause(tenant_id=clock.tenant_id, clock=clock, started_at=a, ended_at=b, reason=why)
        for a, b, why in w.pauses
    ]


def _running(clock: SlaClock, spec: CalendarSpec, stretches: list, now: datetime) -> None:
    """Still open and counting: the thresholds ahead of the import, and none behind it."""
    clock.state = ClockState.RUNNING
    counted_before = sum((business_time_between(spec, a, b) for a, b in stretches[:-1]), ZERO)
    clock.running_since = stretches[-1][0] if stretches else now
    clock.spent = counted_before
    ahead = []
    for percent in sorted({int(p) for p in clock.warn_percents if 0 < int(p) < BREACH}):
        amount = timedelta(seconds=clock.target_seconds * percent / 100)
        if amount > counted_before:
            at = add_business_time(spec, clock.running_since, amount - counted_before)
            if at > now:
                ahead.append([percent, at.isoformat()])
    due = add_business_time(
        spec, clock.running_since, timedelta(seconds=clock.target_seconds) - counted_before
    )
    clock.due_at = due
    clock.checkpoints = [*ahead, [BREACH, due.isoformat()]]
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
                w = walk(metric, clock.pause_on, moves.get(incident.pk, []))
                pauses += clock_from_history(clock, spec, w, now)
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
    a clock runs backwards."""
    rows = (
        IncidentEvent.objects.for_tenant(tenant_id)
        .filter(incident_id__in=incident_ids, kind=EventKind.TRANSITION)
        .order_by("incident_id", "id")
        .values_list("incident_id", "created_at", "transition", "from_state", "to_state", "data")
    )
    moves: dict[int, list[Move]] = {}
    for incident_id, at, name, source, target, data in rows:
        found = moves.setdefault(incident_id, [])
        at = max(at, found[-1][0]) if found else at
        found.append((at, name, source, target, (data or {}).get("hold_reason") or ""))
    return moves


def _save(tenant_id: int, clocks: list, pauses: list, updated: list) -> None:
    if updated:
        SlaPause.objects.for_tenant(tenant_id).filter(clock__in=updated).delete()
        SlaClock.objects.bulk_update(
            updated,
            ["policy", "calendar", "priority_slug", "target_seconds", "warn_percents",
             "pause_on", "state", "started_at", "spent", "running_since", "due_at",
             "next_check_at", "checkpoints", "breached_at", "stopped_at"],
            batch_size=500,
        )  # fmt: skip
    SlaClock.objects.bulk_create([c for c in clocks if not c.pk], batch_size=1000)
    SlaPause.objects.bulk_create(pauses, batch_size=1000)
