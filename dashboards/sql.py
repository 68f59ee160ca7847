"""SQL building blocks the ORM lacks, each with a PostgreSQL form and a portable (SQLite) one.

- Seconds(duration): a duration as float seconds.
- collect(): gather values into a rollup's NumberList (array_agg / json_group_array).
- spreads(): medians and p90 of the durations kept in the rollup rows of a period, exactly,
  in one statement: unnest and percentile_cont on PostgreSQL; json_each and window functions
  (row_number and count over each group, then linear interpolation between the two
  neighbouring values, which is what percentile_cont does) elsewhere. Same answers.
- compiled(): a queryset's SQL, to splice into larger statements.
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


def collect(
    column: str, condition: str, *, order: str, skip_nulls: bool = False, integers: bool = False
) -> str:
    """An aggregate gathering `column` of the rows meeting `condition` into a NumberList:
    an array on PostgreSQL (ordered, so two lists of the same rows stay aligned), a JSON array
    elsewhere (SQLite aggregates the rows of a group in one pass, in the same order for both)."""
    if skip_nulls:
        condition = f"{condition} AND {column} IS NOT NULL"
    if is_postgres():
        empty = "'{}'::bigint[]" if integers else "'{}'::double precision[]"
        return f"COALESCE(array_agg({column} ORDER BY {order}) FILTER (WHERE {condition}), {empty})"
    return f"json_group_array({column}) FILTER (WHERE {condition})"


@dataclass(frozen=True)
class Spread:
    """How long something took across a set of incidents: how many, median and p90 seconds."""

    n: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True)
class Measure:
    """Durations kept in two aligned NumberList columns of the rollup (wall and business
    seconds), measured overall and, with `group`, per value of that rollup column too."""

    name: str
    wall: str
    business: str
    group: str | None = None


Found = dict[tuple[str, object], dict[str, Spread]]


def spreads(rows: QuerySet, measures: Sequence[Measure], count_list: str) -> tuple[Found, dict]:
    """Over the rollup rows `rows`: {(measure name, group value or None): {"wall": Spread,
    "business": Spread}}, and how often each value of the list `count_list` occurs (who
    resolved how many). One statement."""
    base_sql, params = compiled(rows.order_by())
    body = (
        _spreads_pg(measures, count_list)
        if is_postgres()
        else _spreads_portable(measures, count_list)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"WITH r AS ({base_sql}) {body}", params)
        result = cursor.fetchall()
    found: Found = {}
    counts = {}
    for name, key, clock, n, median, p90 in result:
        if name == count_list:
            counts[int(key)] = int(n)
        else:
            found.setdefault((name, key), {})[clock] = Spread(int(n), _float(median), _float(p90))
    return found, counts


def _float(value) -> float | None:
    return None if value is None else float(value)


def _spreads_pg(measures: Sequence[Measure], count_list: str) -> str:
    """Each measure: one pass over its unnested (wall, business) pairs (unnest in the select
    list zips the two lists and costs less than a lateral function scan), GROUPING SETS giving
    the overall figures and those per group in the same pass; one sort per clock and group
    serves both fractions (percentile_cont over an array of them)."""
    arms = []
    for m in measures:
        group = f"r.{m.group}" if m.group else "CAST(NULL AS BIGINT)"
        stats = ", ".join(
            f"COUNT(s.{c}) AS n_{c}, percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP "
            f"(ORDER BY s.{c}) AS p_{c}"
            for c in ("wall", "business")
        )
        grouping = "GROUP BY GROUPING SETS ((), (s.g))" if m.group else ""
        key = "CASE WHEN GROUPING(s.g) = 1 THEN NULL ELSE s.g END" if m.group else "NULL::bigint"
        arms.append(
            f"SELECT x.m, x.g, v.c, v.n, v.p[1], v.p[2] FROM ("
            f"SELECT '{m.name}' AS m, {key} AS g, {stats} FROM ("
            f"SELECT {group} AS g, unnest(r.{m.wall}) AS wall, unnest(r.{m.business}) AS business "
            f"FROM r) AS s {grouping}) AS x CROSS JOIN LATERAL (VALUES "
            f"('wall', x.n_wall, x.p_wall), ('business', x.n_business, x.p_business)) AS v(c, n, p)"
        )
    arms.append(
        f"SELECT '{count_list}', s.v, '', COUNT(*), NULL::float8, NULL::float8 "
        f"FROM (SELECT unnest(r.{count_list}) AS v FROM r) AS s GROUP BY s.v"
    )
    return " UNION ALL ".join(arms)


def _spreads_portable(measures: Sequence[Measure], count_list: str) -> str:
    def values(m: Measure, clock: str, key: str) -> str:
        column = m.wall if clock == "wall" else m.business
        return (
            f"SELECT '{m.name}' AS m, {key} AS g, '{clock}' AS c, j.value AS v "
            f"FROM r, json_each(r.{column}) AS j"
        )

    arms = []
    for m in measures:
        for clock in ("wall", "business"):
            arms.append(values(m, clock, "NULL"))
            if m.group:
                arms.append(values(m, clock, f"r.{m.group}"))

    def at(p: float) -> str:
        pos = f"((n - 1) * {p})"
        lo = f"CAST({pos} AS INTEGER)"
        return (
            f"SUM(CASE WHEN i = {lo} THEN v * (1 - ({pos} - {lo})) "
            f"WHEN i = {lo} + 1 THEN v * ({pos} - {lo}) ELSE 0 END)"
        )

    ranked = (
        "SELECT m, g, c, v, ROW_NUMBER() OVER (PARTITION BY m, g, c ORDER BY v) - 1 AS i, "
        f"COUNT(*) OVER (PARTITION BY m, g, c) AS n FROM ({' UNION ALL '.join(arms)}) "
        "WHERE v IS NOT NULL"
    )
    return (
        f"SELECT m, g, c, MAX(n), {at(0.5)}, {at(0.9)} FROM ({ranked}) GROUP BY m, g, c "
        f"UNION ALL SELECT '{count_list}', j.value, '', COUNT(*), NULL, NULL "
        f"FROM r, json_each(r.{count_list}) AS j GROUP BY j.value"
    )
