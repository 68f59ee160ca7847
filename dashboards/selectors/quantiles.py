"""Medians and p90 of a period's durations, exact, from the bucket counts and one look inside
the buckets that hold them.

With the counts of every bucket (dashboards/selectors/histograms.py), the k-th shortest
duration of the period lies in a known bucket at a known offset. One statement reads those
offsets from the facts, each through its duration's (tenant, bucket, instant) index: only that
bucket's durations of the period, sorted. The interpolation is percentile_cont's (at position
p x (n - 1): first + fraction x (second - first)), so the figures are the ones percentile_cont
over every duration of the period gives, however many there are.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db.models import QuerySet

from dashboards.selectors.histograms import SERIES, ZERO_BUCKET, Histograms, Key, Series
from dashboards.selectors.sql import Spread, compiled
from tenancy.replicas import read_connection

FRACTIONS = (0.5, 0.9)  # median and p90
ALL = "all"  # every priority level of the facts asked about
Spreads = dict[str, Spread]  # {"wall": ..., "business": ...}


class CountsDisagree(Exception):
    """The bucket counts promised durations the facts do not hold (running totals left behind
    by a change to the facts they were not told of, e.g. a deleted incident)."""


@dataclass(frozen=True)
class Look:
    """Durations of one series in one bucket, of one priority level or ALL."""

    series: Series
    key: Key | str
    bucket: int


@dataclass
class Durations:
    ack: Spreads
    resolve: Spreads
    resolve_by_priority: dict[Key, Spreads]  # levels with durations; not "no priority"
    resolved_by: dict[int, int]  # assignee id -> incidents resolved


def _ranks(fraction: float, n: int) -> tuple[float, int, int]:
    position = fraction * (n - 1)
    return position, math.floor(position), math.ceil(position)


def _locate(counts: list[int], rank: int) -> tuple[int, int]:
    """The bucket holding the rank-th shortest duration (from 0), and its offset there."""
    seen = 0
    for bucket, n in enumerate(counts):
        if rank < seen + n:
            return bucket, rank - seen
        seen += n
    raise ValueError(f"rank {rank} beyond the {seen} durations counted")


def _summed(histograms: Histograms, name: str, keys: Iterable[Key]) -> list[int]:
    summed: list[int] = []
    for key in keys:
        counts = histograms[key].counts[name]
        summed.extend([0] * (len(counts) - len(summed)))
        for bucket, n in enumerate(counts):
            summed[bucket] += n
    return summed


def _looked_up(
    facts: QuerySet, start: datetime, end: datetime, looks: dict[Look, set[int]]
) -> dict[tuple[Look, int], float]:
    """The durations at those offsets of those buckets (sorted by duration): one statement."""
    if not looks:
        return {}
    arms: list[str] = []
    params: list = []
    asked = list(looks.items())
    for i, (look, offsets) in enumerate(asked):
        s = look.series
        within = {f"{s.instant}__gte": start, f"{s.instant}__lt": end, s.bucket: look.bucket}
        qs = facts.filter(**within)
        if look.key != ALL:
            qs = qs.filter(priority_id=look.key)
        low, high = min(offsets), max(offsets)
        sql, arm_params = compiled(qs.order_by(s.seconds).values_list(s.seconds)[low : high + 1])
        arms.append(f"SELECT {i}, b{i}.{s.seconds} FROM ({sql}) AS b{i}")
        params.extend(arm_params)
    found: dict[int, list[float]] = defaultdict(list)
    with read_connection().cursor() as cursor:
        cursor.execute(" UNION ALL ".join(arms), params)
        for i, seconds in cursor.fetchall():
            found[i].append(float(seconds))
    values = {}
    for i, (look, offsets) in enumerate(asked):
        low, high = min(offsets), max(offsets)
        got = sorted(found[i])
        if len(got) != high - low + 1:
            raise CountsDisagree(f"{look}: {len(got)} durations at offsets {low}-{high}")
        values.update({(look, low + j): seconds for j, seconds in enumerate(got)})
    return values


def _spread(n: int, at: Callable[[int], float]) -> Spread:
    if n == 0:
        return Spread()
    figures = []
    for fraction in FRACTIONS:
        position, low, high = _ranks(fraction, n)
        first = at(low)
        figures.append(first if high == low else first + (position - low) * (at(high) - first))
    return Spread(n, *figures)


@dataclass
class _Plan:
    """Where the ranks of one series' durations (of one priority level, or ALL) lie."""

    series: Series
    key: Key | str
    n: int
    where: dict[int, tuple[int, int]]  # rank -> (bucket, offset)

    def value(self, values: dict[tuple[Look, int], float], rank: int) -> float:
        bucket, offset = self.where[rank]
        return (
            0.0 if bucket == ZERO_BUCKET else values[(Look(self.series, self.key, bucket), offset)]
        )


def _plans(histograms: Histograms) -> list[_Plan]:
    plans = []
    for s in SERIES:
        keysets: list[tuple[Key | str, list[Key]]] = [(ALL, list(histograms))]
        if s.measure == "resolve":
            keysets += [(key, [key]) for key in histograms]
        for key, keys in keysets:
            counts = _summed(histograms, s.seconds, keys)
            n = sum(counts)
            ranks = {r for f in FRACTIONS for r in _ranks(f, n)[1:]} if n else set()
            plans.append(_Plan(s, key, n, {rank: _locate(counts, rank) for rank in ranks}))
    return plans


def durations(facts: QuerySet, start: datetime, end: datetime, histograms: Histograms) -> Durations:
    """The spreads of the facts `facts` (the scope's, filters applied) whose durations count in
    [start, end), given their bucket counts: time to acknowledge, time to resolve overall and
    per priority level, and who resolved how many."""
    plans = _plans(histograms)
    looks: dict[Look, set[int]] = defaultdict(set)
    for plan in plans:
        for bucket, offset in plan.where.values():
            if bucket != ZERO_BUCKET:
                looks[Look(plan.series, plan.key, bucket)].add(offset)
    values = _looked_up(facts, start, end, looks)
    found: dict[tuple[str, Key | str], Spreads] = defaultdict(dict)
    for plan in plans:
        spread = _spread(plan.n, partial(plan.value, values))
        found[(plan.series.measure, plan.key)][plan.series.clock] = spread
    resolved_by: dict[int, int] = defaultdict(int)
    for totals in histograms.values():
        for assignee, n in totals.resolvers.items():
            resolved_by[assignee] += n
    return Durations(
        ack=found[("ack", ALL)],
        resolve=found[("resolve", ALL)],
        resolve_by_priority={
            key: spreads
            for (measure, key), spreads in found.items()
            if measure == "resolve"
            and isinstance(key, int)
            and any(spread.n for spread in spreads.values())
        },
        resolved_by={assignee: n for assignee, n in resolved_by.items() if n},
    )
