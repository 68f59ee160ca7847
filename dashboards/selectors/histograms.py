"""How many durations fell in each bucket: counted from the facts, and kept as running totals
per day so that any period's counts are two rows apart.

Buckets order the durations coarsely: 0 below zero, 1 exactly zero, 2 under a second, then
16 per doubling (each about 4.4% wide: 3 + floor(16 log2 seconds)), the last from 2^40 seconds.
A fact stores the bucket of each of its four durations (dashboards/services/facts.py), and
everything here counts those stored buckets, so the counts and the look inside a bucket
(dashboards/selectors/quantiles.py) always agree on where a duration lies; the bucket only has
to grow with the duration, which it does.

`CumulativeCounts` holds, per priority level and day, the counts from the tenant's first day
through that day. A refresh rewrites them from the first day it changed; periods filtered by
group or category count the facts of the period instead (an index-only scan per instant,
linear in the durations of the period).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate

from dashboards.models import CumulativeCounts, IncidentFact, RollupState
from dashboards.selectors.scope import local_midnight
from dashboards.selectors.sql import compiled
from tenancy.models import Tenant
from tenancy.replicas import read_connection

PER_DOUBLING = 16
ZERO_BUCKET = 1  # holds exactly 0 seconds, so the value of a rank found there is known
LAST_BUCKET = 3 + PER_DOUBLING * 40
_SCALE = PER_DOUBLING / math.log(2)

Key = int | None  # a priority level's id; None for incidents without one


def bucket_sql(column: str) -> str:
    """The bucket of a duration in seconds (an SQL expression, PostgreSQL and SQLite alike)."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} < 0 THEN 0 "
        f"WHEN {column} = 0 THEN {ZERO_BUCKET} WHEN {column} < 1 THEN 2 "
        f"WHEN {column} >= {2.0**40!r} THEN {LAST_BUCKET} "
        f"ELSE 3 + CAST(FLOOR(LN({column}) * {_SCALE!r}) AS INTEGER) END"
    )


@dataclass(frozen=True)
class Series:
    """A duration of the facts: counted on `instant`'s day, in the fact column `seconds`
    (also the CumulativeCounts array of its counts), bucketed in `bucket`."""

    measure: str  # "ack" or "resolve"
    clock: str  # "wall" or "business"
    instant: str
    seconds: str
    bucket: str


SERIES = (
    Series("ack", "wall", "acknowledged_at", "ack_seconds", "ack_bucket"),
    Series("ack", "business", "acknowledged_at", "ack_business_seconds", "ack_business_bucket"),
    Series("resolve", "wall", "resolved_at", "resolve_seconds", "resolve_bucket"),
    Series(
        "resolve",
        "business",
        "resolved_at",
        "resolve_business_seconds",
        "resolve_business_bucket",
    ),
)
RESOLVERS = "resolvers"  # counted like a series: the assignee of each fact resolved


@dataclass
class Totals:
    """Counts of one priority level: per series, by bucket; and resolutions per assignee."""

    counts: dict[str, list[int]] = field(default_factory=lambda: {s.seconds: [] for s in SERIES})
    resolvers: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, name: str, slot: int, n: int) -> None:
        if name == RESOLVERS:
            self.resolvers[slot] += n
            return
        counts = self.counts[name]
        if len(counts) <= slot:
            counts.extend([0] * (slot + 1 - len(counts)))
        counts[slot] += n

    def merge(self, other: Totals, sign: int = 1) -> None:
        for name, counts in other.counts.items():
            for slot, n in enumerate(counts):
                if n:
                    self.add(name, slot, sign * n)
        for assignee, n in other.resolvers.items():
            self.add(RESOLVERS, assignee, sign * n)

    def row(self, tenant: Tenant, day: date, key: Key) -> CumulativeCounts:
        resolvers = sorted(a for a, n in self.resolvers.items() if n)
        return CumulativeCounts(
            tenant=tenant,
            day=day,
            priority_id=key,
            resolvers=resolvers,
            resolutions=[self.resolvers[a] for a in resolvers],
            **{name: list(counts) for name, counts in self.counts.items()},
        )

    @classmethod
    def of_row(cls, row: dict) -> Totals:
        totals = cls(counts={s.seconds: list(row[s.seconds]) for s in SERIES})
        for assignee, n in zip(row["resolvers"], row["resolutions"], strict=True):
            totals.resolvers[int(assignee)] = int(n)
        return totals


Histograms = dict[Key, Totals]


def _totals(histograms: Histograms, key: Key) -> Totals:
    if key not in histograms:
        histograms[key] = Totals()
    return histograms[key]


# What is counted on each instant: (series name, the fact column of its slot).
COUNTED = {
    "acknowledged_at": [(s.seconds, s.bucket) for s in SERIES if s.instant == "acknowledged_at"],
    "resolved_at": [
        *((s.seconds, s.bucket) for s in SERIES if s.instant == "resolved_at"),
        (RESOLVERS, "assignee_id"),
    ],
}


def _counted_sql(facts: QuerySet, within: dict[str, Q], tz: ZoneInfo | None) -> tuple[str, list]:
    """One statement counting, per series, the facts `within[instant]` by priority level and
    slot (bucket, or assignee), and by day in `tz` with one: rows (series, key, slot, n[, day]).
    The facts of each instant are read once (a CTE) for all the series counted on it."""
    ctes: list[str] = []
    arms: list[str] = []
    params: list = []
    day = ", d" if tz is not None else ""
    for i, (instant, counted) in enumerate(COUNTED.items()):
        values: dict[str, Any] = {"k": F("priority_id")}
        values |= {f"s{j}": F(column) for j, (_name, column) in enumerate(counted)}
        if tz is not None:
            values["d"] = TruncDate(instant, tzinfo=tz)
        sql, cte_params = compiled(facts.filter(within[instant]).order_by().values(**values))
        ctes.append(f"c{i} AS ({sql})")
        params.extend(cte_params)
        arms.extend(
            f"SELECT '{name}', k, s{j}, COUNT(*){day} FROM c{i} WHERE s{j} IS NOT NULL "
            f"GROUP BY k, s{j}{day}"
            for j, (name, _column) in enumerate(counted)
        )
    return f"WITH {', '.join(ctes)} {' UNION ALL '.join(arms)}", params


HISTOGRAM_INSTANTS = tuple(COUNTED)


def _fetch(sql: str, params: list) -> list[tuple]:
    # A page that opted in reads the replica its ORM queries read (tenancy/replicas.py).
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def counted(facts: QuerySet, start: datetime, end: datetime) -> Histograms:
    """The counts of the facts `facts` (already filtered) whose instant is in [start, end):
    one statement."""
    period = {at: Q(**{f"{at}__gte": start, f"{at}__lt": end}) for at in HISTOGRAM_INSTANTS}
    found: Histograms = {}
    for name, key, slot, n in _fetch(*_counted_sql(facts, period, None)):
        _totals(found, key).add(name, int(slot), int(n))
    return found


def cumulative(tenant: Tenant, first: date, last: date, priority: int | None = None) -> Histograms:
    """The counts of the days [first, last] (of one priority level, or all) from the running
    totals: the latest row up to the last day minus the latest row up to the day before the
    first (rows are contiguous, so that is the row of that day, or of the last day with
    rows); one statement."""
    rows = CumulativeCounts.objects.for_tenant(tenant)

    def latest(day: date) -> Subquery:
        return Subquery(rows.filter(day__lte=day).order_by("-day").values("day")[:1])

    before = first - timedelta(days=1)
    at = rows.filter(Q(day=latest(last)) | Q(day=latest(before)))
    if priority is not None:
        at = at.filter(priority_id=priority)
    names = [s.seconds for s in SERIES]
    found: Histograms = {}
    for row in at.annotate(end=latest(last), start=latest(before)).values(
        "day", "end", "start", "priority_id", *names, "resolvers", "resolutions"
    ):
        if row["end"] == row["start"]:
            return {}  # no day of the period has rows: nothing counted in it
        sign = 1 if row["day"] == row["end"] else -1
        _totals(found, row["priority_id"]).merge(Totals.of_row(row), sign)
    return found


def histograms_write(
    *, tenant: Tenant, state: RollupState, tz: ZoneInfo, since: date | None
) -> int:
    """Rewrite the tenant's running totals from the day `since` (None: all of them), through
    the last day that has a duration or already had rows; sets `state.histograms_until`.
    Returns the rows written."""
    existing = CumulativeCounts.objects.for_tenant(tenant)
    until = state.histograms_until
    running: Histograms = {}
    if since is None or until is None:
        since = until = None
        existing.delete()
        within = {at: Q(**{f"{at}__isnull": False}) for at in HISTOGRAM_INSTANTS}
    else:
        since = min(since, until + timedelta(days=1))  # rows stay contiguous
        names = [s.seconds for s in SERIES]
        running = {
            row["priority_id"]: Totals.of_row(row)
            for row in existing.filter(day=since - timedelta(days=1)).values(
                "priority_id", *names, "resolvers", "resolutions"
            )
        }
        existing.filter(day__gte=since).delete()
        start = local_midnight(since, tz)
        within = {at: Q(**{f"{at}__gte": start}) for at in HISTOGRAM_INSTANTS}
    facts = IncidentFact.objects.for_tenant(tenant)
    by_day: dict[date, list[tuple]] = defaultdict(list)
    for name, key, slot, n, day in _fetch(*_counted_sql(facts, within, tz)):
        day = day if isinstance(day, date) else date.fromisoformat(day)
        by_day[day].append((name, key, int(slot), int(n)))
    if by_day:
        since = since or min(by_day)
        until = max(max(by_day), until or since)
    rows: list[CumulativeCounts] = []
    if since is not None and until is not None:
        for offset in range((until - since).days + 1):
            day = since + timedelta(days=offset)
            for name, key, slot, n in by_day.get(day, ()):
                _totals(running, key).add(name, slot, n)
            rows.extend(totals.row(tenant, day, key) for key, totals in running.items())
    CumulativeCounts.objects.bulk_create(rows, batch_size=500)
    state.histograms_until = until
    return len(rows)
