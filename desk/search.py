"""Finding incidents from the desk: the search box and the agent's saved views.

The search reads the whole tenant by default (any state), the queue only when the agent asks.
It matches the number (INC-000042, #42, 42), an imported incident's source number, and words of
the title, description and comments (replies and internal notes: an agent may read both).

On PostgreSQL the words are matched against the stored `search_document` (migration
incidents 0013: kept by triggers, GIN-indexed with the tenant first), and the plan follows the
word's selectivity, measured by two cheap probes:
- a common word (in at least DENSE of the tenant's latest SAMPLE incidents): the page walks the
  queue's own index in page order and tests each row's stored document, which finds a page of
  matches within a few hundred rows;
- otherwise its matches, read from the GIN index (at most RARE_CAP), drive the page, which then
  sorts them.
Either way the cost follows the matches or the page, not the tenant's size. Left to itself the
planner walked the page-order index for a rare word too, through every open incident (1.2 s at
222k incidents, issue 14). SQLite has no full-text index: LIKE on each word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import BooleanField
from django.http import Http404, QueryDict

from desk.models import SavedView
from incidents.models import Comment, Incident
from incidents.selectors import REFERENCE, WORD
from tenancy.models import Tenant, User

if TYPE_CHECKING:
    from desk.selectors import QueueFilters

SEARCH_CONFIG = "english"  # the triggers' configuration (incidents migration 0013)
SAMPLE, DENSE = 300, 6  # a word in 2% of the latest incidents is common: walk the page
RARE_CAP = 5000  # otherwise its matches drive the page, up to this many (then walk after all)
MAX_WORDS = 8

# The parameters a saved view keeps: what picks the rows, not where the agent was paging.
VIEW_PARAMS = (
    "queue",
    "q",
    "in_queue",
    "state",
    "priority",
    "group",
    "assignee",
    "category",
    "reported_from",
    "reported_to",
    "imported",
)


def _exact(text: str) -> Q:
    """The incident a number names (INC-000042, #42, 42), or an imported one's source number
    (INC0010042), each one read of a unique index."""
    match = REFERENCE.match(text)
    found = Q(number=int(match.group(1))) if match else Q(pk__in=[])
    source = text.strip()
    if source and len(source) <= 40:
        found |= Q(source_number__in={source, source.upper()})
    return found


def _tsquery(words: list[str]) -> str:
    # Prefix matching, so a half-typed word already finds something; \w+ words carry no
    # tsquery syntax of their own.
    return " & ".join(f"{w}:*" for w in words)


def _dense_recently(tsquery: str, *, tenant_id: int) -> bool:
    """Whether the word is common among the tenant's latest SAMPLE incidents (at least
    DENSE of them match): a fixed cost whatever the tenant's size, where the GIN index would
    collect every match of a common word before a LIMIT could stop it."""
    sql = (
        "SELECT count(*) FROM (SELECT search_document FROM incidents_incident "
        "WHERE tenant_id = %s ORDER BY reported_at DESC, id DESC LIMIT %s) recent "
        "WHERE search_document @@ to_tsquery(%s::regconfig, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant_id, SAMPLE, SEARCH_CONFIG, tsquery])
        (found,) = cursor.fetchone()
    return found >= DENSE


RARE_SQL = (
    "WITH matches AS MATERIALIZED (SELECT id FROM incidents_incident "
    "WHERE tenant_id = %s::bigint AND search_document @@ to_tsquery(%s::regconfig, %s)) "
    "SELECT id FROM matches LIMIT %s"
)


def _rare_matches(tsquery: str, *, tenant_id: int) -> list[int] | None:
    """The tenant's incidents whose document matches, read from the GIN index, when there are
    at most RARE_CAP of them; None for more."""
    # MATERIALIZED: planned on its own, where the LIMIT cannot lure the planner into a
    # sequential scan (its estimate for a prefix query is a flat guess); read lazily, so the
    # LIMIT still stops the heap reads. ::bigint: btree_gin's operator class for the index's
    # first column compares bigints.
    with connection.cursor() as cursor:
        cursor.execute(RARE_SQL, [tenant_id, SEARCH_CONFIG, tsquery, RARE_CAP + 1])
        ids = [row[0] for row in cursor.fetchall()]
    return ids if len(ids) <= RARE_CAP else None


def _among(ids: list[int]) -> RawSQL:
    # One array parameter, however many ids.
    return RawSQL('"incidents_incident"."id" = ANY(%s)', (ids,), output_field=BooleanField())


def _document_matches(tsquery: str) -> RawSQL:
    # coalesce(): an expression the GIN index cannot serve, so the planner walks the page's
    # own index and tests the stored document per row (a common word fills a page within a
    # few hundred rows) instead of collecting every match to sort them.
    return RawSQL(
        'coalesce("incidents_incident"."search_document", \'\'::tsvector) '
        "@@ to_tsquery(%s::regconfig, %s)",
        (SEARCH_CONFIG, tsquery),
        output_field=BooleanField(),
    )


def _like(words: list[str]) -> Q:
    """SQLite: every word somewhere in the title, description, source number or a comment."""
    found = Q()
    for word in words:
        in_comments = Comment.objects.filter(
            tenant_id=OuterRef("tenant_id"), incident=OuterRef("pk"), body__icontains=word
        )
        found &= (
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(source_number__icontains=word)
            | Q(Exists(in_comments))
        )
    return found


def search_filter(qs: QuerySet[Incident], text: str, *, tenant: Tenant) -> QuerySet[Incident]:
    """The incidents of `qs` (one tenant's, any queue) that the search text finds."""
    exact = _exact(text)
    words = WORD.findall(text)[:MAX_WORDS]
    if not words:
        return qs.filter(exact)
    if not settings.IS_POSTGRES:
        return qs.filter(_like(words) | exact)
    tsquery = _tsquery(words)
    if not _dense_recently(tsquery, tenant_id=tenant.pk):
        rare = _rare_matches(tsquery, tenant_id=tenant.pk)
        if rare is not None:
            return qs.filter(Q(_among(rare)) | exact)
    return qs.filter(Q(_document_matches(tsquery)) | exact)


def search_scope(queue: str, filters: QueueFilters) -> str:
    """The queue whose rows a page shows: a search reads History (every incident, any state)
    unless the agent asked for this queue only."""
    return queue if not filters.q or filters.in_queue else "history"


# --- saved views ----------------------------------------------------------------------------
def view_query(params: QueryDict) -> str:
    """The part of a queue page's query string a saved view keeps, in a stable order."""
    kept = QueryDict(mutable=True)
    for name in VIEW_PARAMS:
        value = (params.get(name) or "").strip()
        if value:
            kept[name] = value
    return kept.urlencode()


def saved_views_for(*, tenant: Tenant, user: User) -> list[SavedView]:
    """The agent's saved views in this tenant, by name: their queue tabs."""
    return list(SavedView.objects.for_tenant(tenant).filter(user=user).order_by("name", "id"))


def saved_view_for(*, tenant: Tenant, user: User, pk: int) -> SavedView:
    """One of the agent's saved views; another agent's, another tenant's or none: 404."""
    found = SavedView.objects.for_tenant(tenant).filter(user=user, pk=pk).first()
    if found is None:
        raise Http404("No such saved view.")
    return found
