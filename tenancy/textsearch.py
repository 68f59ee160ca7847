"""Finding a tenant's rows by their words on PostgreSQL: the plan follows the words' selectivity.

A table searched this way keeps a stored tsvector column, GIN-indexed with the tenant first
(btree_gin), and a b-tree that lists the tenant's rows newest first. Two cheap probes decide:
- a common word (in at least `dense` of the tenant's latest `sample` rows): the page walks a b-tree
  in its own order and tests each row's stored vector, which finds a page of matches within a
  few hundred rows;
- otherwise its matches, read from the GIN index (at most `cap`), drive the page.
Either way the cost follows the matches or the page, not the tenant's size. Left to itself the
planner cannot tell: its estimate for a prefix query is a flat guess, so it walked every open
incident for a rare word (1.2 s at 222k incidents, issue 14) and started parallel workers to
rank a common word's every match among 100k articles (issue 15).

The desk's incident search (desk/search.py) and the knowledge base (knowledge/selectors.py)
share these rules. SQL names come from the callers' constants, never from input.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField

from tenancy import rls

CONFIG = "english"  # every stored vector's configuration
SAMPLE, DENSE = 300, 6  # a word in 2% of the latest rows is common: walk the page


@dataclass(frozen=True)
class Searched:
    """A table searched by its words: its stored vector and the order of "latest"."""

    table: str
    vector: str
    latest: str  # ORDER BY for the tenant's latest rows, served by a tenant-first b-tree


def tsquery(words: list[str], *, any_word: bool = False, prefix_all: bool = True) -> str:
    """The words as a tsquery: all of them (or any). Prefix matching, so a half-typed word
    already finds something: every word's, or only the last one's (still being typed).
    `words` are \\w+ words, which carry no tsquery syntax of their own."""
    joined = [f"{w}:*" if prefix_all else w for w in words[:-1]] + [f"{words[-1]}:*"]
    return (" | " if any_word else " & ").join(joined)


def dense_recently(
    searched: Searched, query: str, *, tenant_id: int, sample: int = SAMPLE, dense: int = DENSE
) -> bool:
    """Whether the query matches at least `dense` of the tenant's latest `sample` rows: a fixed
    cost whatever the tenant's size, where the GIN index would collect every match of a
    common word before a LIMIT could stop it."""
    sql = (
        f"SELECT count(*) FROM (SELECT {searched.vector} AS v FROM {searched.table} "
        f"WHERE tenant_id = %s ORDER BY {searched.latest} LIMIT %s) recent "
        "WHERE v @@ to_tsquery(%s::regconfig, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, sample, CONFIG, query])
        (found,) = cursor.fetchone()
    return found >= dense


def matches_sql(searched: Searched) -> str:
    # MATERIALIZED: planned on its own, where the LIMIT cannot lure the planner into a
    # sequential scan; read lazily, so the LIMIT still stops the heap reads. ::bigint:
    # btree_gin's operator class for the index's first column compares bigints.
    return (
        f"WITH matches AS MATERIALIZED (SELECT id FROM {searched.table} "
        f"WHERE tenant_id = %s::bigint AND {searched.vector} @@ to_tsquery(%s::regconfig, %s)) "
        "SELECT id FROM matches LIMIT %s"
    )


def first_matches(searched: Searched, query: str, *, tenant_id: int, limit: int) -> list[int]:
    """Up to `limit` of the tenant's rows that match, read from the GIN index (in no order).

    Read past the tenant wall (tenancy/rls.py), by the statement's own tenant condition: `@@`
    is not leakproof, so under the wall's policy PostgreSQL may not test it in the index and
    walks every row of the tenant instead (150 ms at 200,000 incidents, against 6 ms). Only
    ids leave here, and the callers read their rows under the wall."""
    reason = "a search's matches from the GIN index, one named tenant's"
    with rls.bypass(reason, routine=True), connection.cursor() as cursor:
        cursor.execute(matches_sql(searched), [tenant_id, CONFIG, query, limit])
        return [row[0] for row in cursor.fetchall()]


def few_matches(searched: Searched, query: str, *, tenant_id: int, cap: int) -> list[int] | None:
    """The tenant's rows that match, read from the GIN index, when there are at most `cap` of
    them; None for more."""
    ids = first_matches(searched, query, tenant_id=tenant_id, limit=cap + 1)
    return ids if len(ids) <= cap else None


def latest_sql(searched: Searched) -> str:
    # The LIMIT inside: the planner walks the b-tree for the window and tests each row, where
    # a filter on the whole table it misjudges (a flat guess again) as a seq scan and sort.
    return (
        f"SELECT id FROM (SELECT id, {searched.vector} AS v FROM {searched.table} "
        f"WHERE tenant_id = %s ORDER BY {searched.latest} LIMIT %s) recent "
        "WHERE v @@ to_tsquery(%s::regconfig, %s)"
    )


def latest_matches(searched: Searched, query: str, *, tenant_id: int, window: int) -> list[int]:
    """The matches among the tenant's latest `window` rows, latest first: a bounded walk of a
    b-tree, whatever the tenant's size and the word's frequency."""
    with connection.cursor() as cursor:
        cursor.execute(latest_sql(searched), [tenant_id, window, CONFIG, query])
        return [row[0] for row in cursor.fetchall()]


def among(searched: Searched, ids: list[int]) -> RawSQL:
    """Rows whose id is one of `ids`: one array parameter, however many ids, whose length the
    planner knows (a GIN estimate for a prefix query is a flat guess)."""
    return RawSQL(f'"{searched.table}"."id" = ANY(%s)', (ids,), output_field=BooleanField())


def vector_matches(searched: Searched, query: str) -> RawSQL:
    """The row's stored vector matches, tested per row: coalesce() is an expression the GIN
    index cannot serve, so the planner walks the page's own b-tree instead of collecting every
    match to sort them."""
    return RawSQL(
        f'coalesce("{searched.table}"."{searched.vector}", \'\'::tsvector) '
        "@@ to_tsquery(%s::regconfig, %s)",
        (CONFIG, query),
        output_field=BooleanField(),
    )
