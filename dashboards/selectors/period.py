"""The figures of a period, from the derived tables, and their cache.

The counts come from DailyRollup rows, summed per day, priority, group and category (one
statement). The durations' medians and p90, exact, and who resolved how many come from bucket
counts (dashboards/selectors/histograms.py: two rows of running totals per priority level, or,
filtered by group or category, counted from the facts) and one look inside the buckets that
hold the medians (dashboards/selectors/quantiles.py). All of it is read in one snapshot. The
derived tables only change when a refresh writes them, so the figures of a (period, filters)
are kept in FiguresCache under the tenant's rollup version: a second look costs one lookup, and
the refresh task warms the last 7, 30 and 90 days without filters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q, QuerySet

from dashboards.models import COUNTERS, DailyRollup, FiguresCache, IncidentFact, RollupState
from dashboards.selectors.histograms import counted, cumulative
from dashboards.selectors.quantiles import CountsDisagree, Durations, Spreads, durations
from dashboards.selectors.scope import Scope, last_days
from dashboards.selectors.sql import Spread, compiled
from tenancy.models import Tenant
from tenancy.replicas import read_connection, reading_replica

log = logging.getLogger(__name__)
SLA_COUNTERS = ("response_met", "response_breached", "resolution_met", "resolution_breached")
TOP_CATEGORIES = 10
GROUPINGS = (
    ("day", "day"),
    ("priority", "priority_id"),
    ("group", "group_id"),
    ("category", "category_id"),
)
WARM_PERIODS = (7, 30, 90)
Key = int | None


@dataclass
class Period:
    per_day: list[tuple[date, dict[str, int]]]
    sla_by_priority: dict[Key, dict[str, int]]
    sla_by_group: dict[Key, dict[str, int]]
    top_categories: list[tuple[Key, int]]
    ack: Spreads
    resolve: Spreads
    resolve_by_priority: dict[Key, Spreads]
    resolved_by: dict[int, int]  # assignee id -> incidents resolved in the period

    def to_json(self) -> dict:
        def keyed(mapping: dict) -> dict:
            return {"none" if k is None else str(k): v for k, v in mapping.items()}

        def spread_map(spreads_: Spreads) -> dict:
            return {clock: asdict(spread) for clock, spread in spreads_.items()}

        return {
            "per_day": [[day.isoformat(), counters] for day, counters in self.per_day],
            "sla_by_priority": keyed(self.sla_by_priority),
            "sla_by_group": keyed(self.sla_by_group),
            "top_categories": self.top_categories,
            "ack": spread_map(self.ack),
            "resolve": spread_map(self.resolve),
            "resolve_by_priority": keyed(
                {k: spread_map(v) for k, v in self.resolve_by_priority.items()}
            ),
            "resolved_by": keyed(self.resolved_by),
        }

    @classmethod
    def from_json(cls, data: dict) -> Period:
        def key(text: str) -> Key:
            return None if text == "none" else int(text)

        def spread_map(found: dict) -> Spreads:
            return {clock: Spread(**values) for clock, values in found.items()}

        return cls(
            per_day=[(date.fromisoformat(day), counters) for day, counters in data["per_day"]],
            sla_by_priority={key(k): v for k, v in data["sla_by_priority"].items()},
            sla_by_group={key(k): v for k, v in data["sla_by_group"].items()},
            top_categories=[(k, n) for k, n in data["top_categories"]],
            ack=spread_map(data["ack"]),
            resolve=spread_map(data["resolve"]),
            resolve_by_priority={
                key(k): spread_map(v) for k, v in data["resolve_by_priority"].items()
            },
            resolved_by={int(k): n for k, n in data["resolved_by"].items()},
        )


def dimensions(scope: Scope, prefix: str = "") -> Q:
    """The scope's group / category / priority filters on a table with those columns."""
    condition = Q()
    for name in ("group", "category"):
        value = getattr(scope, name)
        if value == "none":
            condition &= Q(**{f"{prefix}{name}__isnull": True})
        elif value:
            condition &= Q(**{f"{prefix}{name}_id": int(value)})
    if scope.priority:
        condition &= Q(**{f"{prefix}priority_id": int(scope.priority)})
    return condition


def _rollups(tenant: Tenant, scope: Scope) -> QuerySet[DailyRollup]:
    return DailyRollup.objects.for_tenant(tenant).filter(
        dimensions(scope), day__gte=scope.date_from, day__lte=scope.date_to
    )


def _counts_sql(base_sql: str) -> str:
    """The period's rollup rows (read once) summed per day, priority, group and category."""
    sums = ", ".join(f"SUM({c})" for c in COUNTERS)
    arms = []
    for kind, column in GROUPINGS:
        day = "day" if column == "day" else "CAST(NULL AS DATE)"
        key = "CAST(NULL AS BIGINT)" if column == "day" else column
        arms.append(f"SELECT '{kind}', {day}, {key}, {sums} FROM c GROUP BY {column}")
    return f"WITH c AS ({base_sql}) {' UNION ALL '.join(arms)}"


def _counts(tenant: Tenant, scope: Scope) -> dict[str, dict]:
    base = _rollups(tenant, scope).values(*(c for _, c in GROUPINGS), *COUNTERS).order_by()
    sql, params = compiled(base)
    with read_connection().cursor() as cursor:
        cursor.execute(_counts_sql(sql), params)
        rows = cursor.fetchall()
    found: dict[str, dict] = {kind: {} for kind, _ in GROUPINGS}
    for kind, day, key, *sums in rows:
        if kind == "day":
            key = day if isinstance(day, date) else date.fromisoformat(day)
        found[kind][key] = {name: value or 0 for name, value in zip(COUNTERS, sums, strict=True)}
    return found


@contextmanager
def _snapshot() -> Iterator[None]:
    """The period's statements see one snapshot of the derived tables: the counts and the look
    inside a bucket must agree even when a refresh commits in between. Inside a transaction
    already (the refresh's, which holds the tenant's lock) there is nothing to do. On a replica
    (a page that opted in, tenancy/replicas.py) the snapshot is the replica's."""
    connection = read_connection()
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def period_durations(tenant: Tenant, scope: Scope, *, count_facts: bool = False) -> Durations:
    """Time to acknowledge and to resolve, and who resolved how many: bucket counts from the
    running totals, or, filtered by group or category (or asked to), counted from the facts;
    then the look inside the buckets."""
    facts = IncidentFact.objects.for_tenant(tenant).filter(dimensions(scope))
    if not (count_facts or scope.group or scope.category):
        priority = int(scope.priority) if scope.priority else None
        histograms = cumulative(tenant, scope.date_from, scope.date_to, priority)
        try:
            return durations(facts, scope.start, scope.end, histograms)
        except CountsDisagree:
            # Still exact from the facts; the next rebuild brings the running totals in line.
            log.warning("dashboards: %s's running totals disagree with its facts", tenant.slug)
    return durations(facts, scope.start, scope.end, counted(facts, scope.start, scope.end))


def period_compute(tenant: Tenant, scope: Scope) -> Period:
    """The period's figures from the derived tables: three statements in one snapshot."""
    with _snapshot():
        found = _counts(tenant, scope)
        spread = period_durations(tenant, scope)
    zero = dict.fromkeys(COUNTERS, 0)

    def sla(counters: dict) -> dict:
        return {name: counters[name] for name in SLA_COUNTERS}

    # Ties by category, "no category" last.
    ranked = sorted(
        found["category"].items(), key=lambda kv: (-kv[1]["created"], kv[0] is None, kv[0] or 0)
    )
    return Period(
        per_day=[(day, found["day"].get(day, zero)) for day in scope.days],
        sla_by_priority={k: sla(v) for k, v in found["priority"].items()},
        sla_by_group={k: sla(v) for k, v in found["group"].items()},
        top_categories=[(k, v["created"]) for k, v in ranked if v["created"]][:TOP_CATEGORIES],
        ack=spread.ack,
        resolve=spread.resolve,
        resolve_by_priority=spread.resolve_by_priority,
        resolved_by=spread.resolved_by,
    )


def period_figures(tenant: Tenant, scope: Scope, state: RollupState | None) -> Period:
    """The period's figures, from the cache when the rollups have not changed since."""
    if state is None:
        return period_compute(tenant, scope)
    cached = (
        FiguresCache.objects.for_tenant(tenant)
        .filter(key=scope.key, version=state.version)
        .values_list("data", flat=True)
        .first()
    )
    if cached is not None:
        return Period.from_json(cached)
    period = period_compute(tenant, scope)
    # Figures from a replica are not stored: the primary may hold a newer version's already,
    # and a stored row would pin the rest of the page to the primary (tenancy/replicas.py).
    if not reading_replica():
        _store(tenant, scope, state.version, period)
    return period


def _store(tenant: Tenant, scope: Scope, version: int, period: Period) -> None:
    FiguresCache.objects.bulk_create(
        [FiguresCache(tenant=tenant, key=scope.key, version=version, data=period.to_json())],
        update_conflicts=True,
        unique_fields=["tenant", "key"],
        update_fields=["version", "data"],
    )


def figures_warm(*, tenant: Tenant, state: RollupState) -> int:
    """After a refresh: forget figures of older versions and compute the standard periods."""
    from zoneinfo import ZoneInfo

    FiguresCache.objects.for_tenant(tenant).exclude(version=state.version).delete()
    tz = ZoneInfo(tenant.time_zone)
    for days in WARM_PERIODS:
        scope = Scope(*last_days(days, tz), tz=tz)
        _store(tenant, scope, state.version, period_compute(tenant, scope))
    return len(WARM_PERIODS)
