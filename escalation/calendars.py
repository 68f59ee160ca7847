"""Business-time arithmetic: pure functions over a calendar, no database.

A calendar has a time zone, weekly working hours (wall-clock windows per weekday) and holidays.
Every window is built in the calendar's zone from wall-clock times and turned into UTC, so a
day with a DST change simply has a shorter or longer window; counting happens on UTC instants,
which is what the database stores. A 24x7 calendar counts every second (holidays included: it is
the calendar of round-the-clock targets).

Amounts are timedeltas (microsecond exact), so add_business_time and business_time_between are
exact inverses: business_time_between(c, a, add_business_time(c, a, d)) == d.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY_SECONDS = 24 * 3600
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A calendar with no working window within this many days cannot reach any target.
SEARCH_DAYS = 3 * 366
ZERO = timedelta(0)

Window = tuple[int, int]  # seconds after local midnight: (start, end), 0 <= start < end <= 86400


class CalendarError(ValueError):
    """The calendar cannot answer (it has no working time at all)."""


def _no_holiday(day: date) -> str | None:
    return None


@dataclass(frozen=True)
class CalendarSpec:
    """What the arithmetic needs to know about a calendar."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    # Seven tuples of windows, Monday first.
    weekly: tuple[tuple[Window, ...], ...] = ((),) * 7
    always_open: bool = False
    holiday: Callable[[date], str | None] = _no_holiday
    name: str = ""

    def windows_on(self, day: date) -> tuple[Window, ...]:
        return self.weekly[day.weekday()]

    def is_business_day(self, day: date) -> bool:
        if self.always_open:
            return True
        return bool(self.windows_on(day)) and self.holiday(day) is None


def always_open(name: str = "24x7") -> CalendarSpec:
    return CalendarSpec(always_open=True, weekly=(((0, DAY_SECONDS),),) * 7, name=name)


@dataclass(frozen=True)
class Segment:
    """A stretch of time on a clock's explanation: counted or not, and the rule behind it."""

    start: datetime
    end: datetime
    counted: bool
    rule: str

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


# --- working windows as UTC intervals ---------------------------------------------------------


def _local_instant(spec: CalendarSpec, day: date, seconds: int) -> datetime:
    # Adding to an aware datetime is wall-clock arithmetic: 24:00 is the next day's midnight,
    # and the zone resolves the offset of that wall time (fold=0 on ambiguous or missing times).
    midnight = datetime.combine(day, time(0), tzinfo=spec.tz)
    return (midnight + timedelta(seconds=seconds)).astimezone(UTC)


def _day_windows(spec: CalendarSpec, day: date) -> list[tuple[datetime, datetime]]:
    if spec.holiday(day) is not None:
        return []
    out = []
    for start, end in spec.windows_on(day):
        a, b = _local_instant(spec, day, start), _local_instant(spec, day, end)
        if b > a:  # a window inside a skipped DST hour can collapse to nothing
            out.append((a, b))
    return out


def windows(
    spec: CalendarSpec, start: datetime, end: datetime | None = None
) -> Iterator[tuple[datetime, datetime]]:
    """Working intervals (UTC, ordered, non-overlapping, clipped) from `start` until `end` (or
    forever). Windows that touch across midnight come out one after the other."""
    start = start.astimezone(UTC)
    if spec.always_open:
        yield start, (end.astimezone(UTC) if end else datetime.max.replace(tzinfo=UTC))
        return
    day = start.astimezone(spec.tz).date() - timedelta(days=1)
    last_found, covered = day, start
    while end is None or _local_instant(spec, day, 0) < end:
        if end is None and (day - last_found).days > SEARCH_DAYS:
            raise CalendarError(f"The calendar {spec.name!r} has no working hours.")
        for a, b in _day_windows(spec, day):
            last_found = day
            # Clipping to what is already covered keeps a DST-shifted window from counting twice.
            a, b = max(a, covered), (min(b, end) if end else b)
            if b > a:
                yield a, b
                covered = b
        day += timedelta(days=1)


# --- the three questions ----------------------------------------------------------------------


def business_time_between(spec: CalendarSpec, start: datetime, end: datetime) -> timedelta:
    """Working time from start to end; zero when end is not after start."""
    if end <= start:
        return ZERO
    return sum((b - a for a, b in windows(spec, start, end)), ZERO)


def add_business_time(spec: CalendarSpec, start: datetime, amount: timedelta) -> datetime:
    """The first instant at which `amount` of working time has passed since `start`."""
    if amount <= ZERO:
        return start.astimezone(UTC)
    remaining = amount
    for a, b in windows(spec, start):
        if remaining <= b - a:
            return a + remaining
        remaining -= b - a
    raise CalendarError("unreachable: windows() is endless or raises")  # pragma: no cover


def add_business_seconds(spec: CalendarSpec, start: datetime, seconds: float) -> datetime:
    return add_business_time(spec, start, timedelta(seconds=seconds))


def business_seconds_between(spec: CalendarSpec, start: datetime, end: datetime) -> float:
    return business_time_between(spec, start, end).total_seconds()


def add_business_days(spec: CalendarSpec, start: datetime, days: int) -> datetime:
    """The same wall-clock time `days` business days later (days with working hours that are
    not holidays); used for the confirmation window of resolved incidents."""
    local = start.astimezone(spec.tz)
    day, left = local.date(), days
    for _ in range(SEARCH_DAYS):
        if left <= 0:
            break
        day += timedelta(days=1)
        if spec.is_business_day(day):
            left -= 1
    else:
        raise CalendarError(f"The calendar {spec.name!r} has no business days.")
    return datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=spec.tz).astimezone(UTC)


def spent_over(
    spec: CalendarSpec,
    start: datetime,
    end: datetime,
    pauses: list[tuple[datetime, datetime | None]],
) -> timedelta:
    """Working time from start to end, leaving out the (non-overlapping) pauses."""
    return sum(
        (business_time_between(spec, a, b) for a, b in running_stretches(start, end, pauses)), ZERO
    )


def running_stretches(
    start: datetime, end: datetime, pauses: list[tuple[datetime, datetime | None]]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the pauses (a pause with no end lasts until `end`)."""
    out, cursor = [], start
    for p_start, p_end in sorted(pauses, key=lambda p: p[0]):
        p_end = p_end or end
        if p_start > cursor:
            out.append((cursor, min(p_start, end)))
        cursor = max(cursor, p_end)
        if cursor >= end:
            break
    if cursor < end:
        out.append((cursor, end))
    return [(a, b) for a, b in out if b > a]


def instant_reaching(
    spec: CalendarSpec, stretches: list[tuple[datetime, datetime | None]], amount: timedelta
) -> datetime | None:
    """When the working time counted over these stretches reaches `amount` (None: not within
    them). A last stretch without an end is open: the clock runs on."""
    left = amount
    for a, b in stretches:
        if b is None:
            return add_business_time(spec, a, left)
        inside = business_time_between(spec, a, b)
        if left <= inside:
            return add_business_time(spec, a, left)
        left -= inside
    return None


# --- explaining -------------------------------------------------------------------------------


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def describe_hours(spec: CalendarSpec, day: date) -> str:
    spans = ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in spec.windows_on(day))
    return f"{WEEKDAYS[day.weekday()]} {spans}"


def _gap_rule(spec: CalendarSpec, day: date) -> str:
    name = spec.holiday(day)
    if name is not None:
        return f"Holiday: {name}"
    if not spec.windows_on(day):
        return f"No working hours on {WEEKDAYS[day.weekday()]}s"
    return f"Outside working hours ({describe_hours(spec, day)})"


def _split_gap(spec: CalendarSpec, a: datetime, b: datetime) -> Iterator[Segment]:
    """A stretch outside working time, cut at local midnights so each day says why."""
    cursor = a
    while cursor < b:
        day = cursor.astimezone(spec.tz).date()
        next_midnight = _local_instant(spec, day + timedelta(days=1), 0)
        stop = min(b, next_midnight) if next_midnight > cursor else b
        yield Segment(cursor, stop, False, _gap_rule(spec, day))
        cursor = stop


def calendar_segments(spec: CalendarSpec, start: datetime, end: datetime) -> list[Segment]:
    """[start, end) as counted and not-counted segments, each with its rule."""
    if end <= start:
        return []
    out: list[Segment] = []
    cursor = start
    for a, b in windows(spec, start, end):
        if a > cursor:
            out.extend(_split_gap(spec, cursor, a))
        rule = "Around the clock" if spec.always_open else "Working hours"
        if not spec.always_open:
            rule += f" ({describe_hours(spec, a.astimezone(spec.tz).date())})"
        out.append(Segment(a, b, True, rule))
        cursor = b
    if cursor < end:
        out.extend(_split_gap(spec, cursor, end))
    return _merge(out)


def explain(
    spec: CalendarSpec,
    start: datetime,
    end: datetime,
    pauses: list[tuple[datetime, datetime | None, str]],
) -> list[Segment]:
    """The calendar's segments with the pauses laid over them: working time inside a pause is
    not counted, and says which pause."""
    out: list[Segment] = []
    for seg in calendar_segments(spec, start, end):
        cursor = seg.start
        for p_start, p_end, why in sorted(pauses, key=lambda p: p[0]):
            p_end = p_end or end
            a, b = max(cursor, p_start), min(seg.end, p_end)
            if b <= a:
                continue
            if a > cursor:
                out.append(Segment(cursor, a, seg.counted, seg.rule))
            out.append(Segment(a, b, False, why if seg.counted else f"{seg.rule}; {why}"))
            cursor = b
        if cursor < seg.end:
            out.append(Segment(cursor, seg.end, seg.counted, seg.rule))
    return _merge(out)


def _merge(segments: list[Segment]) -> list[Segment]:
    out: list[Segment] = []
    for seg in segments:
        if (
            out
            and out[-1].end == seg.start
            and (out[-1].counted, out[-1].rule)
            == (
                seg.counted,
                seg.rule,
            )
        ):
            out[-1] = Segment(out[-1].start, seg.end, seg.counted, seg.rule)
        else:
            out.append(seg)
    return out


# --- holidays ---------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _preset_year(country: str, subdivision: str, year: int) -> dict[date, str]:
    import holidays

    found = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    return dict(found.items())


def holiday_lookup(
    country: str = "", subdivision: str = "", own: dict[date, str] | None = None
) -> Callable[[date], str | None]:
    """A day -> holiday name function: the tenant's own dates first, then the country preset."""
    own = dict(own or {})

    def lookup(day: date) -> str | None:
        if day in own:
            return own[day]
        if country:
            return _preset_year(country, subdivision, day.year).get(day)
        return None

    return lookup


def parse_hhmm(text: str) -> int:
    """'09:30' -> seconds after midnight; '24:00' is the end of the day."""
    hours, _, minutes = text.strip().partition(":")
    value = int(hours) * 3600 + int(minutes or 0) * 60
    if not 0 <= value <= DAY_SECONDS or not 0 <= int(minutes or 0) < 60:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return value


def format_hhmm(seconds: int) -> str:
    return _hhmm(seconds)
