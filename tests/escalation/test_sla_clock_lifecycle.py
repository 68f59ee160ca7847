"""The clocks through the incident services: start, pause, acknowledgement, resolve, reopen,
close, cancel and priority changes, at set instants (time-machine)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from escalation.models import ClockState, SlaAlert
from escalation.selectors.sla import clocks_for_incident
from incidents import services
from incidents.models import EventKind, IncidentEvent
from tests.escalation.sla_helpers import (
    MONDAY_10,
    move_to,
    report_high,
    resolution,
    response,
)

pytestmark = pytest.mark.django_db


def test_reporting_starts_both_clocks_with_the_targets_of_the_priority(people, clock_at):
    incident = report_high(people)
    assert incident.priority.slug == "high"
    resp, reso = response(incident), resolution(incident)
    assert (resp.state, resp.target_seconds, resp.due_at) == (
        "running",
        1800,
        MONDAY_10 + timedelta(minutes=30),
    )
    assert resp.next_check_at == MONDAY_10 + timedelta(minutes=15)  # the 50% warning
    # 8 working hours from Monday 10:00 in a 09:00-17:00 week: Tuesday 10:00.
    assert reso.due_at == MONDAY_10 + timedelta(days=1)
    assert reso.calendar.name == "Business hours"


def test_accepting_in_time_meets_the_response_clock(people, clock_at):
    incident = report_high(people)
    move_to(clock_at, minutes=10)
    services.incident_accept(incident=incident, actor=people.actor(people.alice))
    resp = response(incident)
    assert resp.state == ClockState.MET
    assert resp.spent == timedelta(minutes=10)
    assert resp.next_check_at is None
    assert resolution(incident).state == ClockState.RUNNING


def test_accepting_late_records_a_breach(people, clock_at):
    incident = report_high(people)
    move_to(clock_at, minutes=45)
    services.incident_accept(incident=incident, actor=people.actor(people.alice))
    resp = response(incident)
    assert resp.state == ClockState.BREACHED
    assert resp.breached_at == MONDAY_10 + timedelta(minutes=30)


def test_a_first_public_reply_by_an_agent_ends_the_response_clock(people, clock_at):
    incident = report_high(people)
    move_to(clock_at, minutes=5)
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Still down")
    assert response(incident).state == ClockState.RUNNING  # the caller's reply is no answer
    services.comment_add(
        incident=incident, actor=people.actor(people.bob), body="Note", public=False
    )
    assert response(incident).state == ClockState.RUNNING  # nor is an internal note
    move_to(clock_at, minutes=7)
    services.comment_add(incident=incident, actor=people.actor(people.bob), body="Looking at it")
    resp = response(incident)
    assert (resp.state, resp.spent) == (ClockState.MET, timedelta(minutes=7))


def test_a_hold_awaiting_the_caller_pauses_and_resuming_carries_on(people, clock_at):
    incident = report_high(people)
    incident = services.incident_accept(incident=incident, actor=people.actor(people.alice))
    move_to(clock_at, hours=1)
    incident = services.incident_hold(
        incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_caller"
    )
    reso = resolution(incident)
    assert (reso.state, reso.spent, reso.due_at) == (ClockState.PAUSED, timedelta(hours=1), None)
    move_to(clock_at, hours=3)
    services.incident_resume(incident=incident, actor=people.actor(people.alice))
    reso = resolution(incident)
    assert reso.state == ClockState.RUNNING
    assert reso.spent == timedelta(hours=1)  # the two hours on hold did not count
    assert reso.due_at == MONDAY_10 + timedelta(days=1, hours=2)  # Tuesday 12:00
    assert reso.pauses.get().reason == "awaiting_caller"


def test_a_hold_of_a_kind_the_policy_does_not_name_keeps_the_clock_running(people, clock_at):
    incident = report_high(people)
    incident = services.incident_accept(incident=incident, actor=people.actor(people.alice))
    services.incident_hold(
        incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_vendor"
    )
    assert resolution(incident).state == ClockState.RUNNING


def test_the_resolution_clock_waits_while_resolved_and_continues_after_reopen(people, clock_at):
    rita, alice = people.actor(people.rita), people.actor(people.alice)
    incident = services.incident_accept(incident=report_high(people), actor=alice)
    move_to(clock_at, hours=2)
    incident = services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Fixed",
    )
    assert (resolution(incident).state, resolution(incident).spent) == (
        ClockState.PAUSED,
        timedelta(hours=2),
    )
    move_to(clock_at, hours=5)
    services.incident_reopen(incident=incident, actor=rita, reason="Down again")
    reso = resolution(incident)
    assert reso.state == ClockState.RUNNING
    assert reso.spent == timedelta(hours=2)  # continued, not restarted
    assert reso.started_at == MONDAY_10
    assert reso.due_at == MONDAY_10 + timedelta(days=1, hours=3)  # 6 h left from 15:00: Tue 13:00


def test_closing_meets_the_resolution_clock_and_cancelling_stops_both(people, clock_at):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=report_high(people), actor=alice)
    incident = services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Fixed",
    )
    services.incident_close(incident=incident, actor=people.actor(people.rita), rating=5)
    assert resolution(incident).state == ClockState.MET
    other = report_high(people)
    services.incident_cancel(incident=other, actor=alice, reason="Reported twice")
    assert {response(other).state, resolution(other).state} == {ClockState.STOPPED}


def _report_low(people):
    return services.incident_report(
        actor=people.actor(people.rita), title="Printer", impact="low", urgency="low",
        category=people.network,
    )  # fmt: skip


def _raise_to_high(people, incident, reason: str) -> None:
    services.incident_update(
        incident=incident, actor=people.actor(people.alice), impact="high", urgency="high",
        reason=reason,
    )  # fmt: skip


def test_raising_the_priority_retargets_from_the_original_start_and_is_recorded(people, clock_at):
    incident = _report_low(people)
    assert response(incident).target_seconds == 8 * 3600  # low: one business day
    move_to(clock_at, minutes=20)
    _raise_to_high(people, incident, "Whole floor affected")
    resp = response(incident)
    assert resp.target_seconds == 1800
    assert resp.started_at == MONDAY_10
    assert resp.due_at == MONDAY_10 + timedelta(minutes=30)
    # 20 minutes spent: the 50% warning (15 min) is already behind, so it fires now, once.
    assert list(SlaAlert.objects.filter(clock=resp).values_list("threshold", flat=True)) == [50]
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.SLA)
    assert event.data["retarget"]["response"]["to"]["target_seconds"] == 1800
    assert event.reason == "Whole floor affected" and event.public is False


def test_raising_the_priority_past_the_target_breaches_at_the_instant_it_was_reached(
    people, clock_at
):
    incident = _report_low(people)
    move_to(clock_at, hours=1)
    _raise_to_high(people, incident, "Escalated by the CEO")
    resp = response(incident)
    assert resp.state == ClockState.BREACHED
    assert resp.breached_at == MONDAY_10 + timedelta(minutes=30)
    assert sorted(SlaAlert.objects.filter(clock=resp).values_list("threshold", flat=True)) == [
        50,
        80,
        100,
    ]


def test_the_desk_sees_time_left_in_words_and_colours_and_a_requester_sees_nothing(
    people, clock_at
):
    incident = report_high(people)
    move_to(clock_at, minutes=20)
    views = {
        v.clock.metric: v for v in clocks_for_incident(incident, actor=people.actor(people.alice))
    }
    assert views["response"].words == "10 min left"
    assert views["response"].colour == "warning"  # past the 50% warning
    assert views["resolution"].colour == "ok"
    move_to(clock_at, minutes=40)
    views = {
        v.clock.metric: v for v in clocks_for_incident(incident, actor=people.actor(people.alice))
    }
    assert views["response"].colour == "breached"
    assert clocks_for_incident(incident, actor=people.actor(people.rita)) == []


def test_switching_to_the_itil_scale_retargets_the_clocks_with_an_internal_event(people, clock_at):
    from incidents.services import matrix_set
    from incidents.services.defaults import ITIL_MATRIX, ITIL_SCALE

    incident = report_high(people)  # high x high: high on the default scale
    move_to(clock_at, minutes=5)
    scale = [(slug, label) for slug, label, _ in ITIL_SCALE]
    matrix_set(actor=people.actor(people.ada), scale=scale, matrix=ITIL_MATRIX)
    resp = response(incident)
    assert (resp.priority_slug, resp.target_seconds) == ("critical", 15 * 60)
    assert resp.calendar.name == "Around the clock"
    assert resp.due_at == MONDAY_10 + timedelta(minutes=15)
    event = IncidentEvent.objects.get(incident=incident, kind=EventKind.SLA)
    assert event.public is False
    assert event.data["retarget"]["response"]["from"]["priority"] == "high"
