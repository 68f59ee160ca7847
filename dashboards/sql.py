"""SQL building blocks the ORM lacks, each with a PostgreSQL form and a portable (SQLite) one.

- Seconds(duration): a duration as float seconds.
- percentiles(): median and p90 per group in one statement: percentile_cont on PostgreSQL,
  window functions (row_number and count over each group, then linear interpolation between
  the two neighbouring rows) elsewhere. Both are set-based and give the same answers.
- compiled(): a queryset's SQL, to splice into INSERT ... SELECT statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import FloatField, Func, QuerySet


class Seconds(Func):
    """A duration expression as float seconds."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::double precision"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps durations as integer microseconds.
        return self.as_sql(compiler, connection, template="(%(expressions)s / 1000000.0)", **extra)


def compiled(qs: QuerySet) -> tuple[str, tuple]:
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, tuple(params)


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class Spread:
    """How long something took across a set of incidents: how many, median and p90 seconds."""

    n: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class Sample:
    """Rows to measure (`qs`), the columns whose spread is wanted, and optionally a column to
    break them down by (each column is also measured over all the rows: group value None)."""

    qs: QuerySet
    columns: Sequence[str]
    group: str | None = None


def percentiles(*samples: Sample) -> dict[tuple[str, object], Spread]:
    """Median and p90 of each sample's columns: {(column, group value): Spread}. Nulls are left
    out, as percentile_cont does. All samples in one statement (a column name must not be in
    two samples)."""
    bases, keyed, params = [], [], []
    for i, sample in enumerate(samples):
        select = [*sample.columns, sample.group] if sample.group else list(sample.columns)
        sql, base_params = compiled(sample.qs.order_by().values(*select))
        bases.append(f"base{i} AS ({sql})")
        params.extend(base_params)
        for column in sample.columns:
            keyed.append(f"SELECT '{column}' AS m, CAST(NULL AS BIGINT) AS g, {column} AS v FROM base{i}")
            if sample.group:
                keyed.append(f"SELECT '{column}', {sample.group}, {column} FROM base{i}")
    body = _percentile_pg() if is_postgres() else _percentile_portable()
    sql = f"WITH {', '.join(bases)}, vals AS ({' UNION ALL '.join(keyed)}) {body}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(m, g): Spread(int(n), _float(p50), _float(p90)) for m, g, n, p50, p90 in rows}


def _float(value) -> float | None:
    return None if value is None else float(value)


def _percentile_pg() -> str:
    return (
        "SELECT m, g, COUNT(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
        "percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM vals WHERE v IS NOT NULL "
        "GROUP BY m, g"
    )


def _percentile_portable() -> str:
    """percentile_cont(p): with the n values sorted (i from 0), the value at position
    (n - 1) * p, interpolated between its two neighbours."""

    def at(p: float) -> str:
        pos = f"((n - 1) * {p})"
        lo = f"CAST({pos} AS INTEGER)"
        return (
            f"SUM(CASE WHEN i = {lo} THEN v * (1 - ({pos} - {lo})) "
            f"WHEN i = {lo} + 1 THEN v * ({pos} - {lo}) ELSE 0 END)"
        )

    return (
        "SELECT m, g, MAX(n), "
        f"{at(0.5)}, {at(0.9)} FROM ("
        "SELECT m, g, v, ROW_NUMBER() OVER (PARTITION BY m, g ORDER BY v) - 1 AS i, "
        "COUNT(*) OVER (PARTITION BY m, g) AS n FROM vals WHERE v IS NOT NULL"
        ") ranked GROUP BY m, g"
    )
