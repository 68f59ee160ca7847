"""What a reader may see of the knowledge base, and finding articles by their words.

Requesters see published articles for requesters only; agents and up see every article. A
missing article, another tenant's and one the reader may not see are the same 404.

On PostgreSQL words are matched against the stored `search_vector` (migration 0001: generated
from title and body, GIN-indexed with the tenant first), and what is ranked follows the words'
selectivity (tenancy/textsearch.py). A bounded walk of the tenant's latest WINDOW articles
(`article_recent`) finds a common word's matches, which are ranked (the latest NEWEST of them);
a rarer word's matches are read from the GIN index and ranked all, up to RANK_CAP. Left to
itself the planner ranked every match of a common word, with parallel workers, or scanned the
table for a walk it misjudged: 45 ms at 100,000 articles against 5 ms at 1,000. Now a search
costs about the same at either size (bench/knowledge_bench.py). A tenant with at most WINDOW
articles is searched exactly. SQLite has no text index: LIKE on each word. A search is three
queries, a suggestion at most six.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields import FloatField
from django.http import Http404

from incidents.models import Incident
from incidents.selectors import WORD
from knowledge.models import Article, ArticleState, ArticleVersion, Audience, Deflection
from tenancy import textsearch
from tenancy.actors import Actor
from tenancy.models import Tenant

ARTICLES = textsearch.Searched("knowledge_article", "search_vector", "updated_at DESC, id DESC")
# A word in 0.5% of the tenant's latest WINDOW articles is common: rank its matches among them
# (at most NEWEST); otherwise rank all its matches, read from the GIN index, up to RANK_CAP.
WINDOW, COMMON = 3000, 15
NEWEST = 200
RANK_CAP = 500
MAX_WORDS = 8
SEARCH_LIMIT = 50
SUGGEST_LIMIT = 3
# Words that say nothing about what is wrong (the stemmer drops its own stop words).
VAGUE = (
    "the and for not can cannot with from this that does doesn don won isn work working any "
    "all our has have had was were are but you your again since"
)
VAGUE_WORDS = frozenset(VAGUE.split())


def articles_visible(*, actor: Actor) -> QuerySet[Article]:
    articles = Article.objects.for_tenant(actor.tenant)
    if not actor.is_agent_or_above:
        articles = articles.filter(state=ArticleState.PUBLISHED, audience=Audience.REQUESTERS)
    return articles


def article_for_actor(*, actor: Actor, pk: int) -> Article:
    """The article, if the actor may read it; Http404 otherwise."""
    article = articles_visible(actor=actor).select_related("category").filter(pk=pk).first()
    if article is None:
        raise Http404("No such article here.")
    return article


def _rank(query: str) -> RawSQL:
    return RawSQL(
        'ts_rank("knowledge_article"."search_vector", to_tsquery(%s::regconfig, %s))',
        (textsearch.CONFIG, query),
        output_field=FloatField(),
    )


def _candidates(query: str, *, tenant: Tenant) -> list[int]:
    """The ids worth ranking for the query: a common word's matches among the latest articles,
    every match of a rarer one (or, past RANK_CAP, the latest matches and RANK_CAP others)."""
    latest = textsearch.latest_matches(ARTICLES, query, tenant_id=tenant.pk, window=WINDOW)
    if len(latest) >= COMMON:
        return latest[:NEWEST]
    found = textsearch.first_matches(ARTICLES, query, tenant_id=tenant.pk, limit=RANK_CAP)
    return list(dict.fromkeys(latest + found))


def _find(
    articles: QuerySet[Article], words: list[str], *, tenant: Tenant, any_word: bool
) -> QuerySet[Article]:
    """The articles of `articles` that have every word (or any), best first."""
    if settings.IS_POSTGRES:
        # Only the last word is a prefix (still being typed): whole words are exact entries.
        query = textsearch.tsquery(words, any_word=any_word, prefix_all=False)
        found = articles.filter(textsearch.among(ARTICLES, _candidates(query, tenant=tenant)))
        return found.annotate(rank=_rank(query)).order_by("-rank", "-updated_at", "-id")
    match = Q() if not any_word else Q(pk__in=[])
    for word in words:
        has = Q(title__icontains=word) | Q(body__icontains=word)
        match = (match | has) if any_word else (match & has)
    return articles.filter(match).order_by("-updated_at", "-id")


def article_search(
    *, actor: Actor, text: str, state: str = "", limit: int = SEARCH_LIMIT
) -> list[Article]:
    """The articles the actor may read that have every word of `text` (all of them, newest
    first, for no words), optionally in one state."""
    articles = articles_visible(actor=actor).select_related("category")
    if state in ArticleState.values:
        articles = articles.filter(state=state)
    words = WORD.findall(text.lower())[:MAX_WORDS]
    if not words:
        return list(articles.order_by("-updated_at", "-id")[:limit])
    return list(_find(articles, words, tenant=actor.tenant, any_word=False)[:limit])


def _telling_words(text: str) -> list[str]:
    words = [w for w in WORD.findall(text.lower()) if len(w) >= 3 and w not in VAGUE_WORDS]
    return words[:MAX_WORDS]


def articles_suggested(
    *, tenant: Tenant, text: str, agents: bool = False, limit: int = SUGGEST_LIMIT
) -> list[Article]:
    """Published articles that share telling words with `text` (a title being typed, an
    incident's title), best first: requesters' only, or agents' too when `agents`."""
    words = _telling_words(text)
    if not words:
        return []
    articles = Article.objects.for_tenant(tenant).filter(state=ArticleState.PUBLISHED)
    if not agents:
        articles = articles.filter(audience=Audience.REQUESTERS)
    # Those with every word first (usually few, and the best), then those with any.
    found = list(_find(articles, words, tenant=tenant, any_word=False)[:limit])
    if len(found) < limit and len(words) > 1:
        others = articles.exclude(pk__in=[article.pk for article in found])
        found += _find(others, words, tenant=tenant, any_word=True)[: limit - len(found)]
    return found


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return ArticleVersion.objects.for_tenant(article.tenant_id).filter(article=article)


def article_votes(*, article: Article) -> dict[str, int]:
    """How many readers found it helpful and how many did not."""
    counts = article.votes.filter(tenant_id=article.tenant_id).aggregate(
        yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
    )
    return {"yes": counts["yes"], "no": counts["no"]}


def article_vote_of(*, article: Article, actor: Actor) -> bool | None:
    if actor.user_id is None:
        return None
    vote = article.votes.filter(tenant_id=article.tenant_id, user_id=actor.user_id).first()
    return None if vote is None else vote.helpful


def article_incidents(*, article: Article) -> list[Incident]:
    return list(
        Incident.objects.for_tenant(article.tenant_id)
        .filter(pk__in=article.incident_links.values("incident_id"))
        .order_by("number")
    )


@dataclass(frozen=True)
class KnowledgeFigures:
    since: datetime
    deflections: int
    reports: int  # incidents reported in the period
    most_helpful: list[Article]  # annotated with helpful, unhelpful and deflected

    @property
    def started(self) -> int:
        """Reports started: those ended by an article and those that became incidents."""
        return self.deflections + self.reports

    @property
    def deflection_rate(self) -> float | None:
        return self.deflections / self.started if self.started else None


def knowledge_figures(
    *, tenant: Tenant, since: datetime, until: datetime | None = None, limit: int = 5
) -> KnowledgeFigures:
    """The dashboard's figures in [since, until): the deflection rate (reports ended by an
    article over reports started), and the articles most found helpful (all votes: a vote has
    no time). Three queries."""
    deflections = Deflection.objects.for_tenant(tenant).filter(created_at__gte=since)
    reports = Incident.objects.for_tenant(tenant).filter(reported_at__gte=since)
    if until is not None:
        deflections = deflections.filter(created_at__lt=until)
        reports = reports.filter(reported_at__lt=until)
    helpful = (
        Article.objects.for_tenant(tenant)
        .annotate(
            helpful=Count("votes", filter=Q(votes__helpful=True), distinct=True),
            unhelpful=Count("votes", filter=Q(votes__helpful=False), distinct=True),
            deflected=Count("deflections", distinct=True),
        )
        .filter(helpful__gt=0)
        .order_by("-helpful", "unhelpful", "-id")[:limit]
    )
    return KnowledgeFigures(since, deflections.count(), reports.count(), list(helpful))
