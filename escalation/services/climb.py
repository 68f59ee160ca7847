"""The escalation climb: alert whoever an incident is escalated to, then, while nobody
acknowledges, notify each level of the policy in turn (and the whole chain again `repeat_count`
times). Acknowledging (accepting, a first public agent reply, or acknowledging an alert) stops it.

A functional escalation (to the team with the skills) alerts whoever now holds it; a hierarchical
one goes up the line: the group's lead at once, then the policy's levels above the lead (the
managers by default), from the escalation on. Nobody is alerted of their own escalation.

Level waits count from the level before (the first from the escalation), in wall-clock time or
in the working time of the policy's calendar. The schedule depends only on the climb's row, so a
sweep that comes late fires every level it missed, each once (unique incident+level+repeat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Max, Q
from django.utils import timezone

from escalation.calendars import CalendarSpec, add_business_time
from escalation.models import (
    AlertKind,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    NotifyKind,
    RunState,
    SlaAlert,
)
from escalation.services.defaults import CalendarSpecs, calendar_spec
from incidents.models import EventKind, Incident, IncidentEvent
from oncall.selectors import on_call
from tenancy.actors import Actor

FUNCTIONAL, HIERARCHICAL = "functional", "hierarchical"
# An alert's audience up the line: the group's lead, else the managers (alerts.py).
LINE = "line"
# The levels a hierarchical climb does not go back down to: it tells the line instead.
BELOW_THE_LINE = frozenset({NotifyKind.ASSIGNEE, NotifyKind.GROUP, NotifyKind.GROUP_LEAD})


def policy_for(tenant_id: int, group_id: int | None) -> EscalationPolicy | None:
    """The group's active policy, else the desk-wide one."""
    policies = EscalationPolicy.objects.for_tenant(tenant_id).filter(is_active=True)
    # One of each at most (unique constraints): the group's sorts first, the desk-wide last.
    own_or_default = Q(group=None) | Q(group_id=group_id) if group_id else Q(group=None)
    ordered = policies.filter(own_or_default).order_by(F("group_id").asc(nulls_last=True))
    return ordered.select_related("calendar").first()


@dataclass(frozen=True)
class ClimbStart:
    """Where a climb begins: the policy, its first level and the calendar its waits count in."""

    policy: EscalationPolicy
    first: EscalationLevel
    spec: CalendarSpec | None  # None: wall-clock time

    def first_check(self, start: datetime) -> datetime:
        return _after(self.spec, start, self.first.after_seconds)


def climb_start_for(tenant_id: int, group_id: int | None) -> ClimbStart | None:
    """The climb an incident held by `group_id` would start; None when no policy has a level."""
    policy = policy_for(tenant_id, group_id)
    first = policy.levels.order_by("position").first() if policy else None
    if policy is None or first is None:
        return None
    spec = calendar_spec(policy.calendar) if policy.calendar else None
    return ClimbStart(policy, first, spec)


def _after(spec: CalendarSpec | None, start: datetime, seconds: int) -> datetime:
    """`seconds` after `start`: in wall-clock time, or in the working time of `spec`."""
    wait = timedelta(seconds=seconds)
    return start + wait if spec is None else add_business_time(spec, start, wait)


def escalation_kind(incident: Incident) -> str:
    """Functional or hierarchical: the escalate event written with this version of the incident
    says (a reassignment outside the lifecycle writes none: it is functional)."""
    data = (
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(
            incident=incident,
            incident_version=incident.version,
            kind=EventKind.TRANSITION,
            transition="escalate",
        )
        .values_list("data", flat=True)
        .first()
    )
    return (data or {}).get("kind", FUNCTIONAL)


def escalation_on_escalate(*, incident: Incident, actor: Actor) -> None:
    """Escalating alerts the assignee, or the group when there is none, and starts the climb;
    a hierarchical escalation climbs up the line instead (`climb_up`)."""
    now = timezone.now()
    if escalation_kind(incident) == HIERARCHICAL:
        climb_up(incident=incident, actor=actor, now=now)
        return
    assigned_alert(incident=incident, actor=actor, now=now)
    if incident.acknowledged_at is not None:
        return
    exists = EscalationRun.objects.for_tenant(incident.tenant_id).filter(incident=incident)
    if not exists.exists():
        climb_begin(
            incident=incident, start=climb_start_for(incident.tenant_id, incident.group_id), now=now
        )


def assigned_alert(*, incident: Incident, actor: Actor, now: datetime) -> None:
    """Tell whoever now holds the incident, unless they took it themselves."""
    if incident.assignee_id is None or incident.assignee_id != actor.user_id:
        SlaAlert.objects.create(
            tenant_id=incident.tenant_id,
            incident=incident,
            kind=AlertKind.ASSIGNED,
            notify="assignee" if incident.assignee_id else "group",
            escalated_by_id=actor.user_id,
            due_at=now,
        )


def climb_up(*, incident: Incident, actor: Actor, now: datetime) -> None:
    """A hierarchical escalation: the line (the group's lead) is alerted now, a person it was
    handed to as well, and the climb goes on from now up the policy's levels above the lead,
    whether or not the incident was acknowledged before: the line has to acknowledge it."""
    if incident.assignee_id is not None and incident.assignee_id != actor.user_id:
        assigned_alert(incident=incident, actor=actor, now=now)
    SlaAlert.objects.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        kind=AlertKind.ASSIGNED,
        notify=LINE,
        escalated_by_id=actor.user_id,
        due_at=now,
    )
    start = climb_start_for(incident.tenant_id, incident.group_id)
    if start is None:
        return
    above = [lvl for lvl in start.policy.levels.all() if lvl.notify not in BELOW_THE_LINE]
    if above:
        _climb_restart(incident, start, above[0], actor=actor, now=now)


def _climb_restart(
    incident: Incident, start: ClimbStart, level: EscalationLevel, *, actor: Actor, now: datetime
) -> None:
    """The incident's one climb, (re)started hierarchical at `level`; a new round when levels
    already fired, since each level fires once per round."""
    climbs = EscalationRun.objects.for_tenant(incident.tenant_id)
    climb = climbs.select_for_update().filter(incident=incident).first()
    fired = SlaAlert.objects.for_tenant(incident.tenant_id).filter(
        incident=incident, kind=AlertKind.ESCALATION
    )
    last_round = fired.aggregate(last=Max("repeat"))["last"]
    climb = climb or EscalationRun(tenant_id=incident.tenant_id, incident=incident)
    climb.policy, climb.state, climb.started_at = start.policy, RunState.CLIMBING, now
    climb.level, climb.repeat = level.position, 0 if last_round is None else last_round + 1
    climb.next_check_at = _after(start.spec, now, level.after_seconds)
    climb.kind, climb.escalated_by_id = HIERARCHICAL, actor.user_id
    climb.acknowledged_at, climb.acknowledged_by, climb.acknowledged_via = None, None, ""
    climb.save()


def climb_begin(*, incident: Incident, start: ClimbStart | None, now: datetime) -> None:
    """Start the climb of an incident that has none yet."""
    if start is None:
        return
    EscalationRun.objects.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        policy=start.policy,
        started_at=now,
        level=start.first.position,
        next_check_at=start.first_check(now),
    )


def escalation_stop(
    *,
    incident: Incident,
    acknowledged: bool,
    user=None,
    via: str = "incident",
) -> bool:
    """End the climb; returns whether it was still climbing."""
    climb = (
        EscalationRun.objects.for_tenant(incident.tenant_id)
        .select_for_update()
        .filter(incident=incident, state=RunState.CLIMBING)
        .first()
    )
    if climb is None:
        return False
    climb.state = RunState.ACKNOWLEDGED if acknowledged else RunState.STOPPED
    climb.next_check_at = None
    if acknowledged:
        climb.acknowledged_at = timezone.now()
        climb.acknowledged_by, climb.acknowledged_via = user, via
    climb.save(
        update_fields=[
            "state",
            "next_check_at",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_via",
        ]
    )
    return True


@dataclass
class Step:
    """Where a climb stands after the sweep fired what was due."""

    alerts: list[SlaAlert]
    level: int
    repeat: int
    next_check_at: datetime | None
    state: str


def climb_advance(
    climb: EscalationRun,
    policy: EscalationPolicy | None,
    levels: list[EscalationLevel],
    now: datetime,
    specs: CalendarSpecs,
) -> Step:
    """Fire every level due by `now`, in order, and say what comes next (`specs`: the
    calendars the caller's batch has read)."""
    alerts: list[SlaAlert] = []
    level, repeat, due = climb.level, climb.repeat, climb.next_check_at
    positions = [lvl.position for lvl in levels]
    if policy is None:
        return Step(alerts, level, repeat, None, RunState.FINISHED)
    firing = due is not None and due <= now
    spec = specs.of(policy.calendar) if policy.calendar and firing else None
    while due is not None and due <= now and level in positions:
        current = levels[positions.index(level)]
        alerts.append(_level_alert(climb, current, repeat, due, now))
        following = [p for p in positions if p > level]
        if following:
            level = following[0]
        elif repeat < policy.repeat_count:
            level, repeat = positions[0], repeat + 1
        else:
            return Step(alerts, level, repeat, None, RunState.FINISHED)
        due = _after(spec, due, levels[positions.index(level)].after_seconds)
    if level not in positions:
        return Step(alerts, level, repeat, None, RunState.FINISHED)
    return Step(alerts, level, repeat, due, RunState.CLIMBING)


def _level_alert(
    climb: EscalationRun, level: EscalationLevel, repeat: int, at: datetime, now: datetime
) -> SlaAlert:
    # Up the line: a hierarchical climb tells the lead (else managers) where a level names
    # the team, and never the person who escalated.
    up = climb.kind == HIERARCHICAL and level.notify in BELOW_THE_LINE
    user_id, note = level.user_id, ""
    if level.notify == NotifyKind.SCHEDULE:
        user_id, note = on_call_target(level, now)
    return SlaAlert(
        tenant_id=climb.tenant_id,
        incident_id=climb.incident_id,
        run_id=climb.pk,
        kind=AlertKind.ESCALATION,
        level=level.position,
        repeat=repeat,
        notify=LINE if up else level.notify,
        notify_user_id=user_id,
        on_call_note=note,
        escalated_by_id=climb.escalated_by_id,
        due_at=at,
    )


def on_call_target(level: EscalationLevel, now: datetime) -> tuple[int | None, str]:
    """Whom a level that names a schedule pages, resolved as it fires (`now`, not when it was
    due: a late sweep pages who is on call now), and the words the timeline shows: whoever is
    on call, else the schedule's fallback, else nobody (alerts.py then tells the managers)."""
    schedule = level.schedule
    if schedule is None:
        return None, "its schedule is gone: the managers are paged"
    found = on_call(schedule, now)
    if found.user is not None:
        return found.user.pk, f"on call in {schedule.name}: {found.user.display_name}"
    if schedule.fallback is not None:
        who = schedule.fallback.display_name
        return schedule.fallback.pk, f"nobody on call in {schedule.name}: its fallback {who}"
    return None, f"nobody on call in {schedule.name} and no fallback: the managers are paged"
