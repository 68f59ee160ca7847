"""Knowledge articles: Markdown bodies, an audience, a draft → published → retired lifecycle,
every saved version kept, and what readers made of them (views, votes, deflected reports).

The PostgreSQL search vector is a generated column the model does not know (migration 0001):
Django never writes it, the database keeps it to the title and body.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from incidents.models import Category, Incident
from problems.models import Problem
from tenancy.models import TenantOwned


class Audience(models.TextChoices):
    REQUESTERS = "requesters", "Requesters and agents"
    AGENTS = "agents", "Agents only"


class ArticleState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class Article(TenantOwned):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)  # Markdown; shown through knowledge.rendering only
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    audience = models.CharField(max_length=12, choices=Audience.choices, default=Audience.AGENTS)
    state = FSMField(default=ArticleState.DRAFT, choices=ArticleState.choices, protected=True)
    version = models.PositiveIntegerField(default=1)
    view_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    incidents = models.ManyToManyField(
        Incident, through="ArticleIncident", related_name="+", blank=True
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "state", "audience", "-updated_at"], name="article_list"
            ),
            # The search's walk of the latest articles (knowledge/selectors.py).
            models.Index(fields=["tenant", "-updated_at", "-id"], name="article_recent"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def for_requesters(self) -> bool:
        return self.audience == Audience.REQUESTERS

    @transition(field=state, source=[ArticleState.DRAFT, ArticleState.RETIRED], target="published")
    def publish(self) -> None:
        self.published_at = timezone.now()

    @transition(field=state, source=ArticleState.PUBLISHED, target="retired")
    def retire(self) -> None:
        pass


class ArticleIncident(TenantOwned):
    """An incident the article came from."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="incident_links")
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "article", "incident"], name="article_incident_once"
            )
        ]


class ArticleProblem(TenantOwned):
    """The problem (its known error, or its fix) the article was written from."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="problem_links")
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "article", "problem"], name="article_problem_once"
            )
        ]
        # The problem page lists the articles written from it.
        indexes = [models.Index(fields=["tenant", "problem"], name="articleproblem_problem")]


class ArticleVersion(TenantOwned):
    """The article as one save left it: who, when, title and body."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "article", "number"], name="article_version_once"
            )
        ]


class ArticleVote(TenantOwned):
    """One "Did this help?" answer per reader and article; answering again changes it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    voted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "article", "user"], name="article_vote_once")
        ]


class Deflection(TenantOwned):
    """A report the requester ended because this article solved it (no incident created)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.CharField(max_length=200, blank=True)  # what they had typed as the title
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "created_at"], name="deflection_when")]
