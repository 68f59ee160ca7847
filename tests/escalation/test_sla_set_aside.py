"""A resolution clock that breached before its incident was resolved is set aside while the
incident is resolved (stopped at the resolve, still breached) and counts again after a reopen:
so every live clock (LIVE_CLOCK_CONDITION) belongs to an open incident, which "Breaching soon"
relies on instead of reading the incidents' state. Through the incident services, at set
instants (time-machine)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.models import ClockState, Metric, SlaClock
from escalation.models.sla import LIVE_CLOCK_CONDITION
from escalation.selectors.breaching import clocks_near_breach
from escalation.selectors.sla import clock_badge, clocks_for_incident
from escalation.services.sweep import sweep_due
from incidents import services
from incidents.models.incident import OPEN_STATES
from tests.escalation.sla_helpers import (
    MONDAY_10,
    move_to,
    report_high,
    resolution,
    response,
)

pytestmark = pytest.mark.django_db

# high: 30 min to respond, 8 business hours to resolve (Monday 10:00 -> Tuesday 10:00).
RESOLUTION_DUE = MONDAY_10 + timedelta(days=1)


def _resolve(people, incident):
    return services.incident_resolve(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Fixed",
    )


def _breached_and_resolved(people, clock_at):
    """Accepted at once, its resolution clock swept breached on Tuesday 10:00, resolved at 12:00."""
    incident = services.incident_accept(
        incident=report_high(people), actor=people.actor(people.alice)
    )
    move_to(clock_at, days=1, hours=1)
    sweep_due()
    assert resolution(incident).state == ClockState.BREACHED
    move_to(clock_at, days=1, hours=2)
    return _resolve(people, incident)


def _near_breach(people) -> set[int]:
    return set(clocks_near_breach(tenant_id=people.acme.pk).values_list("incident_id", flat=True))


def test_resolving_sets_a_breached_resolution_clock_aside_at_the_resolve(people, clock_at):
    incident = _breached_and_resolved(people, clock_at)
    reso = resolution(incident)
    assert reso.state == ClockState.BREACHED  # still breached: the breach is history
    assert reso.stopped_at == incident.resolved_at == MONDAY_10 + timedelta(days=1, hours=2)
    assert reso.breached_at == reso.due_at == RESOLUTION_DUE
    assert incident.pk not in _near_breach(people)
    assert clock_badge(reso).words == "Breached"  # no longer "Breached 2 h ago"


def test_reopening_makes_the_breach_count_again(people, clock_at):
    incident = _breached_and_resolved(people, clock_at)
    move_to(clock_at, days=1, hours=3)
    services.incident_reopen(incident=incident, actor=people.actor(people.rita), reason="Again")
    reso = resolution(incident)
    assert (reso.state, reso.stopped_at) == (ClockState.BREACHED, None)
    assert reso.breached_at == reso.due_at == RESOLUTION_DUE
    assert incident.pk in _near_breach(people)
    views = {v.clock.metric: v for v in clocks_for_incident(incident)}
    assert views[Metric.RESOLUTION].words == "Breached 3 h ago"


def test_a_close_after_the_resolve_keeps_the_instant_it_was_set_aside(people, clock_at):
    incident = _breached_and_resolved(people, clock_at)
    move_to(clock_at, days=2)
    services.incident_close(incident=incident, actor=people.actor(people.rita), rating=4)
    reso = resolution(incident)
    assert reso.state == ClockState.BREACHED
    assert reso.stopped_at == MONDAY_10 + timedelta(days=1, hours=2)


def test_a_breach_that_comes_due_unswept_is_set_aside_as_the_resolve_settles_it(people, clock_at):
    incident = services.incident_accept(
        incident=report_high(people), actor=people.actor(people.alice)
    )
    move_to(clock_at, days=1, hours=2)  # the sweep never ran: the resolve fires the breach itself
    incident = _resolve(people, incident)
    reso = resolution(incident)
    assert (reso.state, reso.breached_at) == (ClockState.BREACHED, RESOLUTION_DUE)
    assert reso.stopped_at == MONDAY_10 + timedelta(days=1, hours=2)


def test_the_response_clock_stopped_by_the_resolve_stays_stopped_after_a_reopen(people, clock_at):
    incident = report_high(people)  # never accepted: resolving answers it
    move_to(clock_at, minutes=20)
    incident = _resolve(people, incident)
    resp = response(incident)
    assert (resp.state, resp.stopped_at) == (ClockState.MET, MONDAY_10 + timedelta(minutes=20))
    move_to(clock_at, hours=1)
    services.incident_reopen(incident=incident, actor=people.actor(people.rita), reason="Again")
    resp = response(incident)
    assert (resp.state, resp.stopped_at) == (ClockState.MET, MONDAY_10 + timedelta(minutes=20))
    assert resolution(incident).state == ClockState.RUNNING


def test_a_response_breach_stopped_by_the_resolve_is_no_set_aside(people, clock_at):
    incident = report_high(people)
    move_to(clock_at, hours=1)
    sweep_due()  # the response clock breaches at 10:30 while nobody answers
    incident = services.incident_escalate(
        incident=incident, actor=people.actor(people.alice), assignee=people.alice
    )
    incident = services.incident_hold(
        incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_vendor"
    )
    move_to(clock_at, hours=2)
    incident = _resolve(people, incident)
    resp = response(incident)
    assert (resp.state, resp.stopped_at) == (ClockState.BREACHED, MONDAY_10 + timedelta(hours=2))
    move_to(clock_at, hours=3)
    services.incident_reopen(incident=incident, actor=people.actor(people.rita), reason="Again")
    resp = response(incident)  # a real stop: the reopen leaves it
    assert (resp.state, resp.stopped_at) == (ClockState.BREACHED, MONDAY_10 + timedelta(hours=2))


def test_a_priority_raised_while_resolved_past_the_target_sets_the_breach_aside(people, clock_at):
    low = services.incident_report(
        actor=people.actor(people.rita), title="Printer", impact="low", urgency="low",
        category=people.network,
    )  # fmt: skip
    low = services.incident_accept(incident=low, actor=people.actor(people.alice))
    move_to(clock_at, days=1, hours=2)  # 8 business hours: past high's resolution target
    low = _resolve(people, low)
    assert resolution(low).state == ClockState.PAUSED  # low's target is far ahead
    services.incident_update(
        incident=low, actor=people.actor(people.alice), impact="high", urgency="high",
        reason="It was the CEO's printer",
    )  # fmt: skip
    reso = resolution(low)
    assert (reso.state, reso.breached_at) == (ClockState.BREACHED, RESOLUTION_DUE)
    assert reso.stopped_at == MONDAY_10 + timedelta(days=1, hours=2)  # when it was resolved
    assert low.pk not in _near_breach(people)


def _live_clocks_of_incidents_not_open() -> list[tuple]:
    return list(
        SlaClock.objects.filter(LIVE_CLOCK_CONDITION)
        .exclude(incident__state__in=OPEN_STATES)
        .values_list("incident__number", "metric", "state", "incident__state")
    )


def test_no_live_clock_belongs_to_an_incident_that_is_not_open(people, clock_at):
    """Breaches, holds, resolves, reopens, closes and cancels through the services: after each
    step every live clock is an open incident's."""
    alice, rita = people.actor(people.alice), people.actor(people.rita)
    made = [report_high(people) for _ in range(4)]
    a, b, c, d = (services.incident_accept(incident=i, actor=alice) for i in made)
    undone = report_high(people)  # never accepted: its response clock breaches too
    steps = [
        lambda: services.incident_hold(incident=b, actor=alice, hold_reason="awaiting_caller"),
        lambda: move_to(clock_at, days=1, hours=1),
        sweep_due,  # a, c, d and undone breach their resolution clocks; b waits
        lambda: _resolve(people, a),
        lambda: _resolve(people, b),
        lambda: _resolve(people, c),
        lambda: services.incident_cancel(incident=undone, actor=alice, reason="Twice"),
        lambda: move_to(clock_at, days=1, hours=2),
        lambda: services.incident_reopen(incident=a, actor=rita, reason="Again"),
        lambda: services.incident_close(incident=c, actor=rita, rating=3),
        lambda: services.incident_hold(incident=d, actor=alice, hold_reason="awaiting_caller"),
        lambda: _resolve(people, a),
        lambda: services.incident_reopen(incident=b, actor=rita, reason="Again"),
        lambda: move_to(clock_at, days=2, hours=2),
        sweep_due,  # b breaches after its reopen
        lambda: services.incident_close(incident=a, actor=rita, rating=2),
    ]
    for n, step in enumerate(steps):
        step()
        assert _live_clocks_of_incidents_not_open() == [], f"after step {n}"
    live = set(SlaClock.objects.filter(LIVE_CLOCK_CONDITION).values_list("incident_id", "metric"))
    # Still counting against their open incidents: b's breach after the reopen, and d's, on
    # hold (a breach is not paused); a (closed) and c (closed) count no more.
    assert live == {(b.pk, Metric.RESOLUTION), (d.pk, Metric.RESOLUTION)}
