"""Finding incidents from the desk: the search box and the agent's saved views.

The search reads the whole tenant by default (any state), the queue only when the agent asks.
It matches the number (INC-000042, #42, 42), an imported incident's source number, and words of
the title, description and comments (replies and internal notes: an agent may read both).

On PostgreSQL the words are matched against the stored `search_document` (migration
incidents 0013: kept by triggers, GIN-indexed with the tenant first), and the plan follows the
word's selectivity (tenancy/textsearch.py): a common word walks the queue's own index in page
order; a rare one's matches, read from the GIN index (at most RARE_CAP), drive the page. SQLite
has no full-text index: LIKE on each word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, QueryDict

from desk.models import SavedView
from incidents.models import Comment, Incident
from incidents.selectors import REFERENCE, WORD
from tenancy import textsearch
from tenancy.models import Tenant, User

if TYPE_CHECKING:
    from desk.selectors import QueueFilters

INCIDENTS = textsearch.Searched(
    "incidents_incident", "search_document", "reported_at DESC, id DESC"
)
RARE_CAP = 5000  # a rare word's matches drive the page, up to this many (then walk after all)
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


def _rare_matches(query: str, *, tenant_id: int) -> list[int] | None:
    return textsearch.few_matches(INCIDENTS, query, tenant_id=tenant_id, cap=RARE_CAP)


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
    query = textsearch.tsquery(words)
    if not textsearch.dense_recently(INCIDENTS, query, tenant_id=tenant.pk):
        rare = _rare_matches(query, tenant_id=tenant.pk)
        if rare is not None:
            return qs.filter(Q(textsearch.among(INCIDENTS, rare)) | exact)
    return qs.filter(Q(textsearch.vector_matches(INCIDENTS, query)) | exact)


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
