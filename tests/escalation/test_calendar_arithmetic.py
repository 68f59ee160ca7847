"""Business-time arithmetic: properties over random calendars, holidays, pauses and DST days,
and the cases a desk notices (a Friday evening, Christmas, the night the clocks change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from escalation.calendars import (
    ZERO,
    CalendarSpec,
    add_business_days,
    add_business_time,
    always_open,
    business_time_between,
    explain,
    holiday_lookup,
    instant_reaching,
    running_stretches,
    spent_over,
)

ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Europe/Berlin",
    "America/Sao_Paulo",
]
HOUR = 3600

# Instants across several DST changes (2025-2027), to the microsecond.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
amounts = st.timedeltas(min_value=ZERO, max_value=timedelta(days=20))


@st.composite
def windows_of_a_day(draw) -> tuple[tuple[int, int], ...]:
    # Quarter-hour marks so spans can start or end inside a skipped or repeated DST hour.
    marks = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
    pairs = [(marks[i] * 900, marks[i + 1] * 900) for i in range(0, len(marks) - 1, 2)]
    return tuple((a, b) for a, b in pairs if b > a)


@st.composite
def calendars(draw) -> CalendarSpec:
    if draw(st.integers(0, 6)) == 0:
        return always_open()
    weekly = [draw(windows_of_a_day()) for _ in range(7)]
    if not any(weekly):
        weekly[0] = ((9 * HOUR, 17 * HOUR),)
    own = draw(
        st.dictionaries(
            st.dates(date(2025, 1, 1), date(2028, 1, 31)), st.just("Day off"), max_size=20
        )
    )
    country = draw(st.sampled_from(["", "GB", "US", "DE"]))
    return CalendarSpec(
        tz=ZoneInfo(draw(st.sampled_from(ZONES))),
        weekly=tuple(weekly),
        holiday=holiday_lookup(country, "", own),
    )


def _pauses(start: datetime, gaps: list[tuple[timedelta, timedelta]]):
    """(pauses, end of the last): each gap runs for a while, then pauses for a while."""
    cursor, pauses = start, []
    for run, paused in gaps:
        pauses.append((cursor + run, cursor + run + paused))
        cursor += run + paused
    return pauses, cursor


PROPERTY = settings(max_examples=100, deadline=None)


@PROPERTY
@given(calendars(), instants, instants)
def test_business_time_is_never_negative_and_never_more_than_elapsed(spec, a, b):
    counted = business_time_between(spec, a, b)
    assert counted >= ZERO
    assert counted <= max(b - a, ZERO)
    if b <= a:
        assert counted == ZERO


@PROPERTY
@given(calendars(), instants, amounts)
def test_the_due_time_is_exact_and_the_earliest(spec, start, amount):
    due = add_business_time(spec, start, amount)
    assert due >= start
    assert business_time_between(spec, start, due) == amount
    if amount > ZERO:  # a microsecond earlier, the target is not yet reached
        assert business_time_between(spec, start, due - timedelta(microseconds=1)) < amount


@PROPERTY
@given(calendars(), instants, instants, instants)
def test_counting_splits_at_any_instant(spec, a, b, c):
    a, b, c = sorted([a, b, c])
    assert business_time_between(spec, a, c) == (
        business_time_between(spec, a, b) + business_time_between(spec, b, c)
    )


@PROPERTY
@given(calendars(), instants, st.lists(st.tuples(amounts, amounts), max_size=4), amounts)
def test_pausing_stops_accrual(spec, start, gaps, tail):
    """Time inside a pause never counts: the spent time equals the counted running stretches."""
    pauses, cursor = _pauses(start, gaps)
    end = cursor + tail
    spent = spent_over(spec, start, end, pauses)
    assert spent == business_time_between(spec, start, end) - sum(
        (business_time_between(spec, p, q) for p, q in pauses), ZERO
    )
    # Lengthening a pause never adds time.
    if pauses:
        longer = pauses[:-1] + [(pauses[-1][0], pauses[-1][1] + timedelta(hours=5))]
        assert spent_over(spec, start, end + timedelta(hours=5), longer) == spent_over(
            spec, start, end + timedelta(hours=5), pauses
        ) - business_time_between(spec, pauses[-1][1], pauses[-1][1] + timedelta(hours=5))


@PROPERTY
@given(calendars(), instants, st.lists(st.tuples(amounts, amounts), max_size=3), amounts)
def test_the_instant_reaching_an_amount_over_stretches_is_exact(spec, start, gaps, amount):
    pauses, cursor = _pauses(start, gaps)
    stretches = [*running_stretches(start, cursor, pauses), (cursor, None)]
    at = instant_reaching(spec, stretches, amount)
    assert at is not None
    assert spent_over(spec, start, at, pauses) == amount


@PROPERTY
@given(calendars(), instants, instants)
def test_the_explanation_covers_every_second_and_counts_what_is_counted(spec, a, b):
    a, b = sorted([a, b])
    b = min(b, a + timedelta(days=40))
    segments = explain(spec, a, b, [])
    assert sum((s.duration for s in segments if s.counted), ZERO) == business_time_between(
        spec, a, b
    )
    if segments:
        assert segments[0].start == a and segments[-1].end == b
        assert all(x.end == y.start for x, y in zip(segments, segments[1:], strict=False))
        assert all(s.rule for s in segments)


# --- cases a person checks by hand --------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
OFFICE = CalendarSpec(
    tz=LONDON,
    weekly=tuple(((9 * HOUR, 17 * HOUR),) if d < 5 else () for d in range(7)),
    holiday=holiday_lookup("GB", "ENG"),
    name="London office",
)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_a_friday_evening_target_falls_due_on_monday():
    due = add_business_time(OFFICE, london(2026, 11, 27, 16, 0), timedelta(hours=2))
    assert due == london(2026, 11, 30, 10, 0)


def test_christmas_and_boxing_day_do_not_count():
    # Thursday 24 Dec 16:00 + 4 h: 1 h on the 24th, 25th and 26th... are holidays (28th too, the
    # substitute for Boxing Day on a Saturday), so 3 h run on Tuesday 29th.
    due = add_business_time(OFFICE, london(2026, 12, 24, 16, 0), timedelta(hours=4))
    assert due == london(2026, 12, 29, 12, 0)


def test_the_spring_forward_night_is_an_hour_shorter_around_the_clock():
    night = CalendarSpec(tz=LONDON, weekly=(((0, 24 * HOUR),),) * 7)
    counted = business_time_between(night, london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0))
    assert counted == timedelta(hours=23)
    assert add_business_time(night, london(2026, 3, 29, 0, 0), timedelta(hours=3)) == london(
        2026, 3, 29, 4, 0
    )


def test_the_fall_back_day_has_twenty_five_hours_and_office_hours_stay_eight():
    night = CalendarSpec(tz=LONDON, weekly=(((0, 24 * HOUR),),) * 7)
    start, end = london(2026, 10, 25, 0, 0), london(2026, 10, 26, 0, 0)
    assert business_time_between(night, start, end) == timedelta(hours=25)
    monday = london(2026, 3, 30, 0, 0)  # the first working day after spring forward
    assert business_time_between(OFFICE, monday, monday + timedelta(days=1)) == timedelta(hours=8)


def test_a_window_in_the_skipped_hour_counts_nothing_on_that_night():
    odd = CalendarSpec(tz=LONDON, weekly=(((int(1.25 * HOUR), int(1.75 * HOUR)),),) * 7)
    day = business_time_between(odd, london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0))
    assert day in (ZERO, timedelta(minutes=30))  # never negative, never more than the span
    normal = business_time_between(odd, london(2026, 3, 30, 0, 0), london(2026, 3, 31, 0, 0))
    assert normal == timedelta(minutes=30)


def test_around_the_clock_counts_real_elapsed_time_over_dst():
    spec = always_open()
    a = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert business_time_between(spec, a, a + timedelta(days=3)) == timedelta(days=3)


def test_explaining_a_weekend_names_the_night_the_weekend_and_the_hours():
    segments = explain(OFFICE, london(2026, 11, 27, 16, 0), london(2026, 11, 30, 10, 0), [])
    rules = [(s.counted, s.rule) for s in segments]
    assert rules[0] == (True, "Working hours (Friday 09:00–17:00)")
    assert (False, "No working hours on Saturdays") in rules
    assert (False, "No working hours on Sundays") in rules
    assert rules[-1] == (True, "Working hours (Monday 09:00–17:00)")


def test_explaining_a_hold_says_it_paused_the_clock():
    hold = (
        london(2026, 11, 30, 11, 0),
        london(2026, 11, 30, 12, 0),
        "On hold (awaiting the caller)",
    )
    segments = explain(OFFICE, london(2026, 11, 30, 10, 0), london(2026, 11, 30, 13, 0), [hold])
    assert [(s.counted, s.rule, s.duration) for s in segments] == [
        (True, "Working hours (Monday 09:00–17:00)", timedelta(hours=1)),
        (False, "On hold (awaiting the caller)", timedelta(hours=1)),
        (True, "Working hours (Monday 09:00–17:00)", timedelta(hours=1)),
    ]


def test_explaining_a_holiday_names_it():
    segments = explain(OFFICE, london(2026, 12, 24, 16, 0), london(2026, 12, 29, 10, 0), [])
    assert (False, "Holiday: Christmas Day") in [(s.counted, s.rule) for s in segments]


def test_three_business_days_skip_the_weekend_and_holidays():
    assert add_business_days(OFFICE, london(2026, 11, 27, 15, 0), 3) == london(2026, 12, 2, 15, 0)
    assert add_business_days(OFFICE, london(2026, 12, 23, 9, 0), 3) == london(2026, 12, 30, 9, 0)
