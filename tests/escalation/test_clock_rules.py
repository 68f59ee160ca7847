"""The clock rule on its own (escalation/clock_rules.py): what each move of an incident does to a
clock, how its working time counts, which thresholds it has passed and when it is breached.
Pure: instants and calendars, no database. The live hooks, the sweep and the importer call it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.calendars import CalendarSpec, running_stretches
from escalation.clock_rules import (
    PAUSE,
    REOPEN,
    RESUME,
    STOP,
    ClockRule,
    Move,
    split_due,
)
from tests.escalation.test_calendar_arithmetic import amounts, calendars, instants

HOUR = 3600
NINE_TO_FIVE = CalendarSpec(weekly=(((9 * HOUR, 17 * HOUR),),) * 5 + ((),) * 2, name="9-17")
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
H = timedelta(hours=1)
PROPERTY = settings(max_examples=60, deadline=None)


def _rule(
    metric: str = "resolution",
    *,
    target: int = 8 * HOUR,
    warn: tuple[int, ...] = (50, 80),
    spec: CalendarSpec = NINE_TO_FIVE,
) -> ClockRule:
    return ClockRule(
        metric=metric,
        target_seconds=target,
        warn_percents=warn,
        pause_on=frozenset({"awaiting_caller"}),
        spec=spec,
    )


# --- moves ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "target", "hold", "acknowledged", "steps"),
    [
        # A hold of a kind the policy names pauses both clocks; another kind pauses neither.
        ("response", "on_hold", "awaiting_caller", False,
         [(REOPEN, ""), (RESUME, ""), (PAUSE, "awaiting_caller")]),
        ("resolution", "on_hold", "awaiting_vendor", False, [(REOPEN, ""), (RESUME, "")]),
        # Work started by someone who acknowledged it ends the response clock only.
        ("response", "diagnosing", "", True, [(REOPEN, ""), (STOP, "diagnosing")]),
        ("resolution", "diagnosing", "", True, [(REOPEN, ""), (RESUME, "")]),
        # Back from a hold that came before anyone acknowledged it: the response clock runs on.
        ("response", "diagnosing", "", False, [(REOPEN, ""), (RESUME, "")]),
        # Resolving answers the caller; the resolution clock waits for close or reopen.
        ("response", "resolved", "", False, [(STOP, "resolved")]),
        ("resolution", "resolved", "", True, [(RESUME, ""), (PAUSE, "resolved")]),
        ("resolution", "closed", "", True, [(STOP, "closed")]),
        ("response", "cancelled", "", False, [(STOP, "cancelled")]),
        ("resolution", "escalated", "", False, [(REOPEN, ""), (RESUME, "")]),
    ],
)  # fmt: skip
def test_what_each_move_does_to_a_clock(metric, target, hold, acknowledged, steps):
    move = Move(at=MONDAY_9, target=target, hold_reason=hold, acknowledged=acknowledged)
    assert _rule(metric).steps(move) == steps


def test_a_hold_changing_kind_ends_one_pause_before_the_next_begins():
    """An imported source can move from one hold kind to another."""
    move = Move(at=MONDAY_9, target="on_hold", hold_reason="awaiting_caller")
    assert _rule().steps(move)[1:] == [(RESUME, ""), (PAUSE, "awaiting_caller")]


# --- working time -----------------------------------------------------------------------------


def test_only_the_calendars_hours_count_and_a_clock_that_does_not_run_counts_nothing_more():
    rule = _rule()
    stretches = [(MONDAY_9 - H, MONDAY_9 + H), (MONDAY_9 + 7 * H, MONDAY_9 + 25 * H)]
    assert rule.counted(stretches) == 3 * H  # 09-10, 16-17 and Tuesday 09-10
    assert rule.counted_at(2 * H, MONDAY_9, MONDAY_9 + 3 * H) == 5 * H
    assert rule.counted_at(2 * H, None, MONDAY_9 + 3 * H) == 2 * H


@PROPERTY
@given(calendars(), instants, st.lists(st.tuples(amounts, amounts), min_size=1, max_size=4))
def test_counting_as_the_clock_runs_equals_counting_its_history(spec, start, gaps):
    """The live hooks add each running stretch when the clock pauses; the importer and a
    re-target count the stretches between the recorded pauses. Same working time."""
    rule, spent, cursor, pauses = _rule(spec=spec), timedelta(0), start, []
    for run, paused in gaps:
        spent = rule.counted_at(spent, cursor, cursor + run)  # runs, then pauses
        pauses.append((cursor + run, cursor + run + paused))
        cursor += run + paused
    assert spent == rule.counted(running_stretches(start, cursor, pauses))


# --- thresholds -------------------------------------------------------------------------------


def test_thresholds_are_the_warnings_and_the_breach_exact_to_the_microsecond():
    rule = _rule(target=7, warn=(80, 33, 0, 100, 33, 120))
    assert rule.percents() == [33, 80, 100]
    assert rule.amount(33) == timedelta(seconds=2, microseconds=310_000)
    assert rule.amount(100) == rule.target


def test_the_checkpoints_ahead_leave_out_what_is_spent_and_end_at_the_due_time():
    rule = _rule()  # 8 working hours, warnings at 50% (4 h) and 80% (6 h 24 min)
    ahead = rule.checkpoints_ahead(5 * H, FRIDAY_16)  # 1 h 24 min to 80%: over the weekend
    monday = FRIDAY_16 + timedelta(days=3, hours=-7)
    assert ahead == [
        [80, (monday + timedelta(minutes=24)).isoformat()],
        [100, (monday + 2 * H).isoformat()],
    ]
    assert rule.deadline(5 * H, FRIDAY_16) == monday + 2 * H
    assert rule.checkpoints_ahead(8 * H, FRIDAY_16) == []  # the target is behind


@PROPERTY
@given(calendars(), instants, st.lists(st.tuples(amounts, amounts), max_size=3))
def test_the_instants_a_running_clock_stores_are_those_its_history_reaches(spec, start, gaps):
    """A clock resumed after pauses stores its checkpoints from what it spent; counted over its
    whole history instead (as a re-target or the importer does), each is reached then too."""
    rule = _rule(target=20 * HOUR, warn=(25, 50, 75), spec=spec)
    pauses, cursor = [], start
    for run, paused in gaps:
        pauses.append((cursor + run, cursor + run + paused))
        cursor += run + paused
    spent = rule.counted(running_stretches(start, cursor, pauses))
    ahead = rule.checkpoints_ahead(spent, cursor)
    stretches = [*running_stretches(start, cursor, pauses), (cursor, None)]  # runs on
    reached = rule.reached(stretches, rule.target)
    assert [[p, at.isoformat()] for p, at in reached.items() if rule.amount(p) > spent] == ahead


def test_a_checkpoint_at_the_sweeps_instant_fires_and_one_a_microsecond_later_waits():
    tick = timedelta(microseconds=1)
    checkpoints = [[50, MONDAY_9.isoformat()], [80, (MONDAY_9 + tick).isoformat()]]
    assert split_due(checkpoints, MONDAY_9) == (checkpoints[:1], checkpoints[1:])
    assert split_due(checkpoints, MONDAY_9 - tick) == ([], checkpoints)


def test_the_thresholds_passed_are_dated_when_they_were_reached_around_a_pause():
    rule = _rule()
    # Monday 09-12 counted, paused 12-15, counted 15-17 and Tuesday 09-12: 8 h at Tuesday 12:00.
    stretches = [(MONDAY_9, MONDAY_9 + 3 * H), (MONDAY_9 + 6 * H, MONDAY_9 + 27 * H)]
    spent = rule.counted(stretches)
    assert spent == 8 * H
    assert rule.reached(stretches, spent) == {
        50: MONDAY_9 + 7 * H,  # 3 h before the pause, the fourth from 15:00
        80: MONDAY_9 + 25 * H + timedelta(minutes=24),  # 5 h on Monday, Tuesday 10:24
        100: MONDAY_9 + 27 * H,
    }
    assert rule.breach_instant(stretches, spent) == MONDAY_9 + 27 * H
    assert rule.breach_instant(stretches[:1], rule.counted(stretches[:1])) is None


# --- outcome ----------------------------------------------------------------------------------


def test_a_clock_is_breached_at_its_target_and_not_a_microsecond_before():
    rule = _rule()
    just_in_time = rule.target - timedelta(microseconds=1)
    assert (rule.breached(just_in_time), rule.breached(rule.target)) == (False, True)
    assert rule.ended_state(just_in_time, cancelled=False) == "met"
    assert rule.ended_state(rule.target, cancelled=False) == "breached"


def test_a_cancellation_has_no_outcome_even_past_the_target():
    assert _rule().ended_state(10 * H, cancelled=True) == "stopped"
