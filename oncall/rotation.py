"""Who is on call when: pure functions of a schedule's layers and overrides (no database).

Rotations turn in the schedule's own wall-clock time: the k-th handoff is the first handoff's
local date and time plus k days (daily), k weeks (weekly) or k x N hours (custom), turned into an
instant with zoneinfo. So a daily 09:00 handoff stays at 09:00 local across a DST change, the
shift that spans the change is 23 or 25 hours long, and no shift is skipped or doubled.

A local time that does not exist (the hour the clocks skip in spring) is read as PEP 495's
fold=0 does: with the offset before the change, which lands the same span after the gap (02:30
becomes 03:30); a local time that happens twice (autumn) is its first occurrence. Both keep the
handoffs in order, and a custom rotation of at least MIN_CUSTOM_HOURS never collapses a shift.

Restrictions (weekdays and a daily window) are spans of local time per day, turned into
instants the same way; a window that crosses midnight belongs to the day it starts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAILY, WEEKLY, CUSTOM = "daily", "weekly", "custom"
MIN_CUSTOM_HOURS = 2
MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class LayerSpec:
    position: int
    name: str
    members: tuple[int, ...]
    rotation: str = WEEKLY
    shift_hours: int = 24
    rotation_start: date = date(2026, 1, 5)
    handoff_time: time = time(9, 0)
    restrict_days: frozenset[int] = frozenset()
    restrict_start: time | None = None
    restrict_end: time | None = None

    @property
    def step(self) -> timedelta:
        if self.rotation == DAILY:
            return timedelta(days=1)
        if self.rotation == WEEKLY:
            return timedelta(days=7)
        return timedelta(hours=self.shift_hours)

    @property
    def restricted(self) -> bool:
        return bool(self.restrict_days) or self.restrict_start is not None

    @property
    def anchor(self) -> datetime:
        """The first handoff, in wall-clock time (naive)."""
        return datetime.combine(self.rotation_start, self.handoff_time)


@dataclass(frozen=True)
class OverrideSpec:
    user_id: int
    starts_at: datetime
    ends_at: datetime
    order: int = 0  # where overrides overlap, the later one (higher order) wins


@dataclass(frozen=True)
class ScheduleSpec:
    time_zone: str
    layers: tuple[LayerSpec, ...] = ()
    overrides: tuple[OverrideSpec, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    user_id: int
    layer: str = ""  # the layer's name; empty for an override
    override: bool = False
    turn: int | None = field(default=None, compare=False)  # the rotation's turn (layer shifts)


def local_instant(tz: ZoneInfo, wall: datetime) -> datetime:
    """A wall-clock time of `tz` as an instant in UTC (fold=0: see the module's docstring)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def handoff(layer: LayerSpec, tz: ZoneInfo, k: int) -> datetime:
    return local_instant(tz, layer.anchor + k * layer.step)


def turn_at(layer: LayerSpec, tz: ZoneInfo, instant: datetime) -> int:
    """The turn k whose shift holds `instant`: handoff(k) <= instant < handoff(k + 1)."""
    wall = instant.astimezone(tz).replace(tzinfo=None)
    k = (wall - layer.anchor) // layer.step
    while handoff(layer, tz, k) > instant:
        k -= 1
    while handoff(layer, tz, k + 1) <= instant:
        k += 1
    return k


def _windows(layer: LayerSpec, tz: ZoneInfo, day: date) -> tuple[datetime, datetime] | None:
    """The span of `day` (local) in which a restricted layer applies, as instants; None when
    the layer does not apply on that weekday."""
    if layer.restrict_days and day.weekday() not in layer.restrict_days:
        return None
    begin = layer.restrict_start or MIDNIGHT
    end = layer.restrict_end or MIDNIGHT
    end_day = day if end > begin else day + timedelta(days=1)
    return (
        local_instant(tz, datetime.combine(day, begin)),
        local_instant(tz, datetime.combine(end_day, end)),
    )


def layer_applies(layer: LayerSpec, tz: ZoneInfo, instant: datetime) -> bool:
    if not layer.restricted:
        return True
    today = instant.astimezone(tz).date()
    for day in (today - timedelta(days=1), today):
        span = _windows(layer, tz, day)
        if span is not None and span[0] <= instant < span[1]:
            return True
    return False


def layer_on_call(layer: LayerSpec, tz: ZoneInfo, instant: datetime) -> int | None:
    """The one member on call in this layer at `instant`; None when it does not apply."""
    if not layer.members or not layer_applies(layer, tz, instant):
        return None
    return layer.members[turn_at(layer, tz, instant) % len(layer.members)]


def override_at(spec: ScheduleSpec, instant: datetime) -> OverrideSpec | None:
    covering = [o for o in spec.overrides if o.starts_at <= instant < o.ends_at]
    return max(covering, key=lambda o: o.order) if covering else None


def on_call_at(spec: ScheduleSpec, instant: datetime) -> Shift | None:
    """Who is on call at `instant` (a Shift of zero length saying who and why), or None."""
    found = override_at(spec, instant)
    if found is not None:
        return Shift(instant, instant, found.user_id, override=True)
    tz = spec.tz
    for layer in sorted(spec.layers, key=lambda lyr: lyr.position, reverse=True):
        user_id = layer_on_call(layer, tz, instant)
        if user_id is not None:
            return Shift(instant, instant, user_id, layer=layer.name)
    return None


def _layer_edges(layer: LayerSpec, tz: ZoneInfo, start: datetime, end: datetime) -> set[datetime]:
    edges: set[datetime] = set()
    k = turn_at(layer, tz, start) + 1
    while (at := handoff(layer, tz, k)) < end:
        edges.add(at)
        k += 1
    if layer.restricted:
        day = start.astimezone(tz).date() - timedelta(days=1)
        last = end.astimezone(tz).date() + timedelta(days=1)
        while day <= last:
            span = _windows(layer, tz, day)
            edges.update(span or ())
            day += timedelta(days=1)
    return {e for e in edges if start < e < end}


def _segments(edges: Iterable[datetime], start: datetime, end: datetime) -> list[tuple]:
    points = [start, *sorted(set(edges)), end]
    return [(a, b) for a, b in zip(points, points[1:], strict=False) if a < b]


def layer_shifts(layer: LayerSpec, tz: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """The layer's shifts within [start, end), cut at the window's ends and at restrictions."""
    found: list[Shift] = []
    for a, b in _segments(_layer_edges(layer, tz, start, end), start, end):
        user_id = layer_on_call(layer, tz, a)
        if user_id is not None:
            found.append(Shift(a, b, user_id, layer=layer.name, turn=turn_at(layer, tz, a)))
    return _merged(found)


def shifts(spec: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from `start` to `end`: one shift per span in which the same person is on
    call for the same reason (a layer, or an override)."""
    tz = spec.tz
    edges: set[datetime] = set()
    for layer in spec.layers:
        edges |= _layer_edges(layer, tz, start, end)
    for o in spec.overrides:
        edges |= {o.starts_at, o.ends_at}
    found: list[Shift] = []
    for a, b in _segments((e for e in edges if start < e < end), start, end):
        now = on_call_at(spec, a)
        if now is not None:
            found.append(Shift(a, b, now.user_id, layer=now.layer, override=now.override))
    return _merged(found)


def _merged(found: list[Shift]) -> list[Shift]:
    """Adjacent spans of the same person for the same reason (and turn) are one shift."""
    merged: list[Shift] = []
    for s in found:
        last = merged[-1] if merged else None
        same = last is not None and (last.user_id, last.layer, last.override, last.turn) == (
            s.user_id,
            s.layer,
            s.override,
            s.turn,
        )
        if last is not None and same and last.end == s.start:
            merged[-1] = Shift(last.start, s.end, s.user_id, s.layer, s.override, s.turn)
        else:
            merged.append(s)
    return merged
