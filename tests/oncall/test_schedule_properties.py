"""Properties of the rotation arithmetic (oncall/rotation.py), with hypothesis: one person per
layer at every instant the layer applies, overrides win, and DST changes in the schedule's time
zone neither skip nor double a shift, handoffs staying at their local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from oncall.rotation import (
    CUSTOM,
    DAILY,
    WEEKLY,
    LayerSpec,
    OverrideSpec,
    ScheduleSpec,
    layer_applies,
    layer_on_call,
    layer_shifts,
    on_call_at,
    shifts,
)

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
# The 2026 changes: (zone, the local day the clocks change).
DST_CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29)),  # spring: 02:00 -> 03:00
    ("Europe/Berlin", date(2026, 10, 25)),  # autumn: 03:00 -> 02:00
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
]
T0 = datetime(2026, 1, 1, tzinfo=UTC)

members = st.lists(st.integers(1, 9), min_size=1, max_size=5).map(tuple)
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
instants = st.integers(0, 365 * 24 * 60).map(lambda m: T0 + timedelta(minutes=m))


@st.composite
def layers(draw, restricted: bool | None = None) -> LayerSpec:
    rotation = draw(st.sampled_from([DAILY, WEEKLY, CUSTOM]))
    restrict = draw(st.booleans()) if restricted is None else restricted
    begin = draw(clock) if restrict and draw(st.booleans()) else None
    end = draw(clock.filter(lambda t: t != begin)) if begin is not None else None
    return LayerSpec(
        position=draw(st.integers(1, 5)),
        name=draw(st.sampled_from(["Primary", "Secondary", "Nights"])),
        members=draw(members),
        rotation=rotation,
        shift_hours=draw(st.integers(2, 72)),
        rotation_start=date(2025, 12, 1) + timedelta(days=draw(st.integers(0, 60))),
        handoff_time=draw(clock),
        restrict_days=frozenset(draw(st.sets(st.integers(0, 6), max_size=6)))
        if restrict
        else frozenset(),
        restrict_start=begin,
        restrict_end=end,
    )


def _cover(found, instant):
    return [s for s in found if s.start <= instant < s.end]


@settings(max_examples=150, deadline=None)
@given(
    layer=layers(),
    zone=st.sampled_from(ZONES),
    start=instants,
    hours=st.integers(1, 24 * 21),
    probes=st.lists(st.integers(0, 10**6), min_size=1, max_size=8),
)
def test_exactly_one_person_is_on_call_per_layer_whenever_it_applies(
    layer, zone, start, hours, probes
):
    tz = ZoneInfo(zone)
    end = start + timedelta(hours=hours)
    found = layer_shifts(layer, tz, start, end)
    for a, b in zip(found, found[1:], strict=False):
        assert a.end <= b.start  # no overlap, in order
    for probe in probes:
        instant = start + (end - start) * (probe / 10**6)
        if instant >= end:
            continue
        covering = _cover(found, instant)
        if layer_applies(layer, tz, instant):
            assert len(covering) == 1
            assert covering[0].user_id == layer_on_call(layer, tz, instant)
            assert covering[0].user_id in layer.members
        else:
            assert covering == [] and layer_on_call(layer, tz, instant) is None


@settings(max_examples=100, deadline=None)
@given(
    layer=layers(restricted=False),
    zone=st.sampled_from(ZONES),
    start=instants,
    hours=st.integers(1, 24 * 21),
)
def test_an_unrestricted_layer_covers_every_instant_of_the_window(layer, zone, start, hours):
    end = start + timedelta(hours=hours)
    found = layer_shifts(layer, ZoneInfo(zone), start, end)
    assert found[0].start == start and found[-1].end == end
    for a, b in zip(found, found[1:], strict=False):
        assert a.end == b.start
        assert b.turn == a.turn + 1  # each handoff passes the turn on to the next, once


@st.composite
def schedules(draw) -> ScheduleSpec:
    spec_layers = draw(
        st.lists(layers(), min_size=1, max_size=3, unique_by=lambda lyr: lyr.position)
    )
    overrides = []
    for order in range(draw(st.integers(1, 4))):
        begin = draw(instants)
        overrides.append(
            OverrideSpec(
                draw(st.integers(20, 29)),
                begin,
                begin + timedelta(minutes=draw(st.integers(1, 5000))),
                order,
            )
        )
    return ScheduleSpec(draw(st.sampled_from(ZONES)), tuple(spec_layers), tuple(overrides))


@settings(max_examples=100, deadline=None)
@given(spec=schedules(), pick=st.integers(0, 3), where=st.floats(0, 0.999))
def test_an_override_wins_over_every_layer_and_the_latest_over_other_overrides(spec, pick, where):
    target = spec.overrides[pick % len(spec.overrides)]
    instant = target.starts_at + (target.ends_at - target.starts_at) * where
    covering = [o for o in spec.overrides if o.starts_at <= instant < o.ends_at]
    winner = max(covering, key=lambda o: o.order)
    now = on_call_at(spec, instant)
    assert now is not None and now.override and now.user_id == winner.user_id
    found = _cover(
        shifts(spec, instant - timedelta(hours=30), instant + timedelta(hours=30)), instant
    )
    assert len(found) == 1 and found[0].override and found[0].user_id == winner.user_id


@settings(max_examples=100, deadline=None)
@given(spec=schedules(), instant=instants)
def test_without_an_override_the_highest_layer_with_someone_wins(spec, instant):
    spec = ScheduleSpec(spec.time_zone, spec.layers, ())
    tz = ZoneInfo(spec.time_zone)
    expected = next(
        (
            layer_on_call(lyr, tz, instant)
            for lyr in sorted(spec.layers, key=lambda x: -x.position)
            if layer_on_call(lyr, tz, instant) is not None
        ),
        None,
    )
    now = on_call_at(spec, instant)
    assert (now.user_id if now else None) == expected


def _exists(tz: ZoneInfo, wall: datetime) -> bool:
    """Whether a local wall time happens (it is not in the hour the clocks skip)."""
    there = wall.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return there == wall


# The handoff in the hour the clocks skip, and in the hour they repeat, always tried.
@example(change=DST_CHANGES[0], rotation=DAILY, handoff_at=time(2, 30), team=(1, 2, 3), offset=0)
@example(change=DST_CHANGES[1], rotation=DAILY, handoff_at=time(2, 30), team=(1, 2, 3), offset=0)
@example(change=DST_CHANGES[3], rotation=WEEKLY, handoff_at=time(1, 30), team=(1, 2), offset=3)
@settings(max_examples=120, deadline=None)
@given(
    change=st.sampled_from(DST_CHANGES),
    rotation=st.sampled_from([DAILY, WEEKLY]),
    handoff_at=clock,
    team=members,
    offset=st.integers(0, 13),
)
def test_dst_changes_neither_skip_nor_double_a_shift_and_handoffs_keep_their_local_time(
    change, rotation, handoff_at, team, offset
):
    zone, day = change
    tz = ZoneInfo(zone)
    layer = LayerSpec(
        1,
        "Primary",
        team,
        rotation,
        rotation_start=day - timedelta(days=offset),
        handoff_time=handoff_at,
    )
    start = datetime.combine(day - timedelta(days=21), time(12), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=21), time(12), tzinfo=tz).astimezone(UTC)
    found = layer_shifts(layer, tz, start, end)
    step = 1 if rotation == DAILY else 7
    for a, b in zip(found, found[1:], strict=False):
        assert a.end == b.start and b.turn == a.turn + 1  # nothing skipped, nothing twice
        assert b.user_id == team[b.turn % len(team)]
        local = b.start.astimezone(tz)
        wall = datetime.combine(local.date(), handoff_at)
        if _exists(tz, wall):
            assert local.time() == handoff_at  # 09:00 local stays 09:00 local
        else:  # the handoff falls in the skipped hour: it happens as the clocks jump
            assert local.replace(tzinfo=None) == wall + timedelta(hours=1)
        length = (b.end - b.start) if b is not found[-1] else None
        if length is not None:
            assert length in {timedelta(days=step) + timedelta(hours=h) for h in (-1, 0, 1)}
    # One handoff on every handoff day: 42 days hold 42 daily or 6 weekly handoffs.
    assert len(found) - 1 == (42 if rotation == DAILY else 6)


@settings(max_examples=80, deadline=None)
@given(
    change=st.sampled_from(DST_CHANGES), hours=st.integers(2, 48), team=members, handoff_at=clock
)
def test_custom_rotations_pass_every_turn_once_across_dst_changes(change, hours, team, handoff_at):
    zone, day = change
    tz = ZoneInfo(zone)
    layer = LayerSpec(
        1,
        "Custom",
        team,
        CUSTOM,
        shift_hours=hours,
        rotation_start=day - timedelta(days=5),
        handoff_time=handoff_at,
    )
    start = datetime.combine(day - timedelta(days=4), time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=4), time(0), tzinfo=tz).astimezone(UTC)
    found = layer_shifts(layer, tz, start, end)
    for a, b in zip(found, found[1:], strict=False):
        assert a.end == b.start and b.turn == a.turn + 1 and b.start < b.end
        assert b.user_id == team[b.turn % len(team)]


def test_a_daily_handoff_at_nine_stays_at_nine_in_berlin_through_the_spring_change():
    tz = ZoneInfo("Europe/Berlin")
    layer = LayerSpec(
        1, "Primary", (1, 2), DAILY, rotation_start=date(2026, 3, 27), handoff_time=time(9)
    )
    start = datetime(2026, 3, 27, 9, tzinfo=tz)
    found = layer_shifts(layer, tz, start, datetime(2026, 3, 31, 9, tzinfo=tz))
    assert [s.start.astimezone(tz).strftime("%d %H:%M") for s in found] == [
        "27 09:00",
        "28 09:00",
        "29 09:00",
        "30 09:00",
    ]
    assert [s.user_id for s in found] == [1, 2, 1, 2]
    # The shift over the change is 23 hours long: the clocks skipped one.
    assert found[1].end - found[1].start == timedelta(hours=23)
