"""The only writers of the knowledge base: articles and their versions, the lifecycle, and what
readers did with them (views, votes, deflected reports, replies sent from an article)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_fsm import can_proceed

from escalation.models import WebhookEvent
from escalation.services.webhooks import webhook_event_emit
from incidents.models import Category, Comment, Incident
from incidents.services.comments import comment_add
from knowledge.models import (
    Article,
    ArticleIncident,
    ArticleProblem,
    ArticleState,
    ArticleVersion,
    ArticleVote,
    Audience,
    Deflection,
)
from knowledge.rendering import summary
from problems.models import Problem
from tenancy.actors import Actor
from tenancy.errors import Conflict, InvalidInput, NotAllowed

TITLE_MAX = 200
BODY_MAX = 50_000


@dataclass(frozen=True)
class ArticleText:
    """What an agent writes: the same fields for a new article and an edit."""

    title: str
    body: str
    category: Category | None = None
    audience: str = Audience.AGENTS


def _require_writer(actor: Actor) -> None:
    if not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents can write articles.")


def _clean(text: ArticleText, actor: Actor) -> ArticleText:
    title, body = (text.title or "").strip(), (text.body or "").strip()
    if not title:
        raise InvalidInput("Give the article a title.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"A title is limited to {TITLE_MAX} characters.", field="title")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"An article is limited to {BODY_MAX:,} characters.", field="body")
    if text.audience not in Audience.values:
        raise InvalidInput("Choose who may read the article.", field="audience")
    if text.category is not None and text.category.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such category here.", field="category")
    return ArticleText(title=title, body=body, category=text.category, audience=text.audience)


def _keep_version(article: Article, actor: Actor) -> None:
    ArticleVersion.objects.create(
        tenant=article.tenant,
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        author=actor.user,
        author_name=actor.name[:150],
        created_at=article.updated_at,
    )


@transaction.atomic
def article_create(
    *,
    actor: Actor,
    text: ArticleText,
    incident: Incident | None = None,
    problem: Problem | None = None,
) -> Article:
    """A draft article (version 1), linked to the incident or problem it came from if any."""
    _require_writer(actor)
    text = _clean(text, actor)
    if incident is not None and incident.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such incident here.", field="incident")
    if problem is not None and problem.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such problem here.", field="problem")
    article = Article.objects.create(
        tenant=actor.tenant,
        title=text.title,
        body=text.body,
        category=text.category,
        audience=text.audience,
        created_by=actor.user,
    )
    _keep_version(article, actor)
    if incident is not None:
        ArticleIncident.objects.create(tenant=actor.tenant, article=article, incident=incident)
    if problem is not None:
        ArticleProblem.objects.create(tenant=actor.tenant, article=article, problem=problem)
    return article


def _lock(article: Article, actor: Actor) -> Article:
    _require_writer(actor)
    return Article.objects.for_tenant(actor.tenant).select_for_update().get(pk=article.pk)


@transaction.atomic
def article_update(
    *, actor: Actor, article: Article, text: ArticleText, expected_version: int | None = None
) -> Article:
    """A new version of the article; refused if someone saved it since the editor opened."""
    locked = _lock(article, actor)
    text = _clean(text, actor)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(
            f"Someone saved this article since you opened it (now version {locked.version}). "
            "Your text is kept below: compare it with the history before saving again."
        )
    unchanged = (locked.title, locked.body, locked.category_id, locked.audience) == (
        text.title,
        text.body,
        text.category.pk if text.category else None,
        text.audience,
    )
    if unchanged:
        return locked
    locked.title, locked.body = text.title, text.body
    locked.category, locked.audience = text.category, text.audience
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["title", "body", "category", "audience", "version", "updated_at"])
    _keep_version(locked, actor)
    return locked


@transaction.atomic
def article_publish(*, actor: Actor, article: Article) -> Article:
    locked = _lock(article, actor)
    if not can_proceed(locked.publish):
        raise Conflict("This article is already published.")
    locked.publish()
    locked.save(update_fields=["state", "published_at"])
    _published_webhook(locked)
    return locked


def _published_webhook(article: Article) -> None:
    path = reverse(
        "knowledge-article", kwargs={"tenant_slug": article.tenant.slug, "pk": article.pk}
    )
    payload = {
        "article": {
            "id": article.pk,
            "title": article.title,
            "audience": article.audience,
            "category": article.category.slug if article.category else None,
            "summary": summary(article.body),
            "url": settings.SITE_URL + path,
        }
    }
    webhook_event_emit(
        tenant=article.tenant,
        event=WebhookEvent.ARTICLE_PUBLISHED,
        payload=payload,
        text=f"Article published: {article.title}",
    )


@transaction.atomic
def article_retire(*, actor: Actor, article: Article) -> Article:
    locked = _lock(article, actor)
    if not can_proceed(locked.retire):
        raise Conflict("Only a published article can be retired.")
    locked.retire()
    locked.save(update_fields=["state"])
    return locked


def article_viewed(*, actor: Actor, article: Article) -> None:
    """Count a reading (one UPDATE, no lock: readers never wait for each other)."""
    Article.objects.for_tenant(actor.tenant).filter(pk=article.pk).update(
        view_count=F("view_count") + 1
    )
    article.view_count += 1  # the copy in hand shows this reading too


@transaction.atomic
def article_vote(*, actor: Actor, article: Article, helpful: bool) -> ArticleVote:
    """The reader's "Did this help?" answer; a second answer replaces the first."""
    if actor.user is None:
        raise NotAllowed("Sign in to say whether this helped.")
    vote, _ = ArticleVote.objects.update_or_create(
        tenant=actor.tenant,
        article=article,
        user=actor.user,
        defaults={"helpful": helpful, "voted_at": timezone.now()},
    )
    return vote


def _require_readable_by_requesters(article: Article) -> None:
    if article.state != ArticleState.PUBLISHED or article.audience != Audience.REQUESTERS:
        raise InvalidInput("This article is not offered to requesters.")


def deflection_record(*, actor: Actor, article: Article, text: str = "") -> Deflection:
    """A report ended by the article: counted, and no incident is created."""
    if article.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such article here.")
    _require_readable_by_requesters(article)
    return Deflection.objects.create(
        tenant=actor.tenant, article=article, user=actor.user, text=(text or "").strip()[:200]
    )


def article_reply_text(*, article: Article, url: str) -> str:
    return f"This article may help: {article.title}\n{url}\n\n{summary(article.body)}".strip()


def article_send(*, actor: Actor, article: Article, incident: Incident, url: str) -> Comment:
    """Send the article to the incident's people as a public reply (its link and summary)."""
    _require_writer(actor)
    if article.tenant_id != actor.tenant.pk or incident.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such article here.")
    _require_readable_by_requesters(article)
    return comment_add(
        incident=incident, actor=actor, body=article_reply_text(article=article, url=url)
    )
