"""SQL building blocks the ORM lacks, each with a PostgreSQL form and a portable (SQLite) one.

- Seconds(duration): a duration as float seconds.
- compiled(): a queryset's SQL, to splice into larger statements.
- Spread: how many durations, their median and p90 (dashboards/selectors/quantiles.py computes
  them).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Spread:
    """How long something took across a set of incidents: how many, median and p90 seconds."""

    n: int = 0
    median: float | None = None
    p90: float | None = None
