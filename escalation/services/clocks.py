"""SLA clock hooks, called by incidents.services inside their transactions.

Each hook locks the incident's clocks (the incident row is already locked by the caller), moves
them and writes the rows; nothing here sends anything: alerts are rows that the notifier turns
into outbox messages after commit.

Rules (DESIGN.md): both clocks start at report; a hold whose kind the policy names pauses the
running clocks; acknowledgement (accept or first public agent reply) ends the response clock;
the resolution clock pauses while resolved and carries on after a reopen (one breached already
is set aside instead: clock_rules.set_aside); close and cancel stop everything; a priority
change re-targets the live clocks from the original start. The rules themselves are
escalation/clock_rules.py, which the importer applies to history too; here they move the rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from escalation.calendars import CalendarSpec, running_stretches
from escalation.clock_rules import (
    BREACH,
    CANCELLED,  # noqa: F401 (escalation.selectors reads the pause reasons here)
    CLOSED,  # noqa: F401
    PAUSE,
    RESOLVED,
    RESUME,
    STOP,
    ClockRule,
    Move,
    set_aside,
    split_due,
)
from escalation.models import (
    LIVE_CLOCK_STATES,
    AlertKind,
    ClockState,
    Metric,
    SlaAlert,
    SlaClock,
    SlaPause,
    SlaPolicy,
)
from escalation.services import climb
from escalation.services.defaults import CalendarSpecs, calendar_spec, sla_policy_for
from incidents.models import EventKind, Incident, IncidentState
from incidents.services.common import record_event
from tenancy.actors import Actor


def alert_for(clock: SlaClock | tuple, percent: int, at: datetime) -> SlaAlert:
    """The alert row of a clock reaching `percent` (tuple: (id, tenant_id, incident_id))."""
    clock_id, tenant_id, incident_id = (
        clock if isinstance(clock, tuple) else (clock.pk, clock.tenant_id, clock.incident_id)
    )
    return SlaAlert(
        tenant_id=tenant_id,
        incident_id=incident_id,
        clock_id=clock_id,
        kind=AlertKind.BREACH if percent >= BREACH else AlertKind.WARNING,
        threshold=percent,
        due_at=at,
    )


# --- moving one locked clock ------------------------------------------------------------------


def _since(clock: SlaClock) -> datetime:
    """The start of a running clock's current stretch (a running clock always has one)."""
    assert clock.running_since is not None, "a running clock has running_since"
    return clock.running_since


def _schedule(clock: SlaClock, spec: CalendarSpec) -> None:
    """A running clock's due time and the checkpoints still ahead of what it has spent."""
    ahead = ClockRule.of(clock, spec).checkpoints_ahead(clock.spent, _since(clock))
    clock.checkpoints = ahead
    clock.due_at = datetime.fromisoformat(str(ahead[-1][1])) if ahead else clock.due_at
    clock.next_check_at = datetime.fromisoformat(str(ahead[0][1])) if ahead else None
    clock.warn_at = clock.warning_instant()


def _fire(clock: SlaClock, fired: list) -> None:
    SlaAlert.objects.bulk_create(
        [alert_for(clock, int(p), datetime.fromisoformat(at)) for p, at in fired],
        ignore_conflicts=True,  # the natural key makes a second firing a no-op
    )
    breach = [at for p, at in fired if int(p) >= BREACH]
    if breach:
        _mark_breached(clock, datetime.fromisoformat(breach[0]))


def _mark_breached(clock: SlaClock, at: datetime) -> None:
    clock.state = ClockState.BREACHED
    clock.breached_at = at
    clock.spent = timedelta(seconds=clock.target_seconds)
    clock.running_since = clock.next_check_at = None
    clock.checkpoints = []
    # A clock breached while paused (a re-target) has no due time: its breach is its deadline.
    clock.due_at = clock.due_at or at
    clock.warn_at = clock.warning_instant()


def _settle(clock: SlaClock, now: datetime) -> None:
    """Fire what has come due but the sweep has not reached yet, before the clock changes."""
    if clock.state != ClockState.RUNNING:
        return
    fired, remaining = split_due(clock.checkpoints, now)
    clock.checkpoints = remaining
    clock.next_check_at = datetime.fromisoformat(remaining[0][1]) if remaining else None
    if fired:
        _fire(clock, fired)


def _pause(clock: SlaClock, spec: CalendarSpec, at: datetime, reason: str) -> None:
    _settle(clock, at)
    if reason == RESOLVED:  # a resolution clock that breached before (or as) it was resolved
        set_aside(clock, at)
    if clock.state != ClockState.RUNNING:
        return
    clock.spent = ClockRule.of(clock, spec).counted_at(clock.spent, _since(clock), at)
    clock.running_since = clock.due_at = clock.warn_at = clock.next_check_at = None
    clock.checkpoints = []
    clock.state = ClockState.PAUSED
    SlaPause.objects.create(tenant_id=clock.tenant_id, clock=clock, started_at=at, reason=reason)


def _end_pause(clock: SlaClock, at: datetime) -> None:
    open_pause = SlaPause.objects.for_tenant(clock.tenant_id).filter(clock=clock, ended_at=None)
    open_pause.update(ended_at=at)


def _resume(clock: SlaClock, spec: CalendarSpec, at: datetime) -> None:
    set_aside(clock, None)  # leaving a resolution: a breached clock set aside counts again
    if clock.state != ClockState.PAUSED:
        return
    _end_pause(clock, at)
    clock.state = ClockState.RUNNING
    clock.running_since = at
    _schedule(clock, spec)


def _stop(clock: SlaClock, spec: CalendarSpec, at: datetime, *, cancelled: bool = False) -> None:
    if clock.state in LIVE_CLOCK_STATES:
        rule = ClockRule.of(clock, spec)
        since = clock.running_since if clock.state == ClockState.RUNNING else None
        clock.spent = rule.counted_at(clock.spent, since, at)
        _end_pause(clock, at)
        clock.state = rule.ended_state(clock.spent, cancelled=cancelled)
        if clock.state == ClockState.BREACHED:
            clock.breached_at = clock.due_at or at
            clock.spent = rule.target
        clock.running_since = clock.next_check_at = None
        clock.checkpoints = []
    if clock.stopped_at is None:
        clock.stopped_at = at


def _save(clock: SlaClock) -> None:
    clock.save(
        update_fields=[
            "state",
            "spent",
            "running_since",
            "due_at",
            "warn_at",
            "next_check_at",
            "checkpoints",
            "breached_at",
            "stopped_at",
            "target_seconds",
            "calendar",
            "policy",
            "priority_slug",
            "warn_percents",
            "pause_on",
        ]
    )


def _locked_clocks(incident: Incident) -> list[SlaClock]:
    # Ordered by id: every locker takes the two rows in the same order.
    return list(
        SlaClock.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident)
        .select_related("calendar")
        .select_for_update(of=("self",))
        .order_by("id")
    )


# --- the hooks --------------------------------------------------------------------------------


def clocks_start(*, incident: Incident, policy: SlaPolicy, spec: CalendarSpec) -> list[SlaClock]:
    """Both clocks, running from the moment the incident was reported, on the policy of its
    level and that policy's calendar (the report reads them: incidents.services.tenant_config)."""
    clocks = []
    for metric in (Metric.RESPONSE, Metric.RESOLUTION):
        clock = SlaClock(
            tenant_id=incident.tenant_id,
            incident=incident,
            metric=metric,
            policy=policy,
            calendar=policy.calendar,
            priority_slug=incident.priority.slug,
            target_seconds=policy.target_for(metric),
            warn_percents=list(policy.warn_percents),
            pause_on=list(policy.pause_on),
            started_at=incident.reported_at,
            running_since=incident.reported_at,
        )
        _schedule(clock, spec)
        clocks.append(clock)
    return SlaClock.objects.bulk_create(clocks)


def clocks_follow_transition(*, incident: Incident, transition: str, actor: Actor) -> None:
    """Move the clocks (and the escalation climb) after a lifecycle transition."""

    now = timezone.now()
    specs = CalendarSpecs()
    # Escalating moves no clock: it skips the lock and the writes (every routed report does it).
    for clock in _locked_clocks(incident) if transition in CLOCK_TRANSITIONS else []:
        _apply_transition(clock, specs.of(clock.calendar), incident, transition, now)
        _save(clock)
    if transition == "escalate":
        climb.escalation_on_escalate(incident=incident, actor=actor)
    elif transition == "accept":
        climb.escalation_stop(incident=incident, acknowledged=True)
    elif transition in ("resolve", "close", "cancel"):
        climb.escalation_stop(incident=incident, acknowledged=False)


CLOCK_TRANSITIONS = frozenset({"hold", "resume", "accept", "resolve", "reopen", "close", "cancel"})


def _apply_transition(
    clock: SlaClock, spec: CalendarSpec, incident: Incident, transition: str, now: datetime
) -> None:
    # An acceptance is dated by the acknowledgement it records, a resolve by its resolved_at
    # (both stamped before this hook runs): a breach set aside stops at the incident's own
    # resolve time, the instant the backfill (migration escalation 0016) used too.
    stamp = {"accept": incident.acknowledged_at, "resolve": incident.resolved_at}.get(transition)
    at = stamp or now
    move = Move(
        at=at,
        target=incident.state,
        hold_reason=incident.hold_reason or "",
        acknowledged=incident.acknowledged_at is not None,
    )
    for step, detail in ClockRule.of(clock, spec).steps(move):
        if step == STOP:
            _stop(clock, spec, at, cancelled=detail == IncidentState.CANCELLED)
        elif step == RESUME:
            _resume(clock, spec, at)
        elif step == PAUSE:
            _pause(clock, spec, at, detail)
        # REOPEN asks nothing of a live clock: the desk's close and cancel are final.


def clocks_acknowledge(*, incident: Incident) -> None:
    """The first public reply of an agent: the response clock ends and the climb stops."""

    at = incident.acknowledged_at or timezone.now()
    for clock in _locked_clocks(incident):
        if clock.metric == Metric.RESPONSE:
            _stop(clock, calendar_spec(clock.calendar), at)
            _save(clock)
    climb.escalation_stop(incident=incident, acknowledged=True)


@transaction.atomic
def clocks_retarget(*, incident: Incident, actor: Actor, reason: str = "") -> list[SlaClock]:
    """The priority changed: live clocks take the new level's targets and calendar, counted
    again from the original start over the recorded pauses. One event says what changed."""

    policy = sla_policy_for(incident.priority)
    spec = calendar_spec(policy.calendar)
    now = timezone.now()
    changes, changed = {}, []
    for clock in _locked_clocks(incident):
        if clock.state not in LIVE_CLOCK_STATES:
            continue
        before = (clock.priority_slug, clock.target_seconds, clock.calendar.name)
        _retarget(clock, policy, spec, now)
        if incident.state == IncidentState.RESOLVED:  # breached by the new target while resolved
            set_aside(clock, incident.resolved_at or now)
        _save(clock)
        changed.append(clock)
        changes[clock.metric] = {
            "from": {"priority": before[0], "target_seconds": before[1], "calendar": before[2]},
            "to": {
                "priority": clock.priority_slug,
                "target_seconds": clock.target_seconds,
                "calendar": policy.calendar.name,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
            },
        }
    if changes:
        record_event(
            incident,
            actor=actor,
            kind=EventKind.SLA,
            public=False,
            reason=reason or f"SLA targets of priority {incident.priority.label}",
            data={"retarget": changes},
        )
    return changed


def _retarget(clock: SlaClock, policy, spec: CalendarSpec, now: datetime) -> None:
    clock.policy, clock.calendar = policy, policy.calendar
    clock.priority_slug = policy.priority.slug
    clock.target_seconds = policy.target_for(clock.metric)
    clock.warn_percents, clock.pause_on = list(policy.warn_percents), list(policy.pause_on)
    pauses = list(clock.pauses.values_list("started_at", "ended_at"))
    stretches = running_stretches(clock.started_at, now, pauses)
    clock.spent = ClockRule.of(clock, spec).counted(stretches)
    running = clock.state == ClockState.RUNNING
    clock.running_since = now if running else None
    _fire_passed(clock, spec, stretches)
    if clock.state == ClockState.RUNNING:
        _schedule(clock, spec)


def _fire_passed(clock: SlaClock, spec: CalendarSpec, stretches: list) -> None:
    """Thresholds the new target puts behind the clock fire now, dated when they were reached."""
    done = set(clock.alerts.values_list("threshold", flat=True))
    reached = ClockRule.of(clock, spec).reached(stretches, clock.spent)
    passed = [
        (percent, (at or timezone.now()).astimezone(UTC).isoformat())
        for percent, at in reached.items()
        if percent < BREACH and percent not in done
    ]
    if BREACH in reached:  # fired again if it was already: the breach marks the clock too
        at = reached[BREACH] or timezone.now()
        _end_pause(clock, timezone.now())
        passed.append((BREACH, at.isoformat()))
    if passed:
        _fire(clock, passed)


def clocks_reassigned(*, incident: Incident, actor: Actor) -> None:
    """A reassignment outside the lifecycle alerts the new holder like an escalation does."""

    if incident.is_open:
        climb.escalation_on_escalate(incident=incident, actor=actor)


def clocks_retarget_many(*, actor: Actor, incident_ids: list[int]) -> int:
    """After a priority matrix change: re-target each incident whose level changed."""
    incidents = Incident.objects.for_tenant(actor.tenant).filter(pk__in=incident_ids)
    changed = 0
    for incident in incidents.select_related("priority", "tenant"):
        live = SlaClock.objects.for_tenant(actor.tenant).filter(
            incident=incident, state__in=LIVE_CLOCK_STATES
        )
        if live.exclude(priority_slug=incident.priority.slug).exists():
            clocks_retarget(incident=incident, actor=actor, reason="The priority matrix changed.")
            changed += 1
    return changed
