"""Reads of what an article was written from, on the problems side: the problems of an article
(its page) and the articles of a problem (the problem page's panel). Both tenant-scoped."""

from __future__ import annotations

from django.db.models import QuerySet

from knowledge.models import Article, ArticleProblem
from problems.models import Problem


def article_problems(*, article: Article) -> list[Problem]:
    """The problems the article was written from, by number: one query."""
    return list(
        Problem.objects.for_tenant(article.tenant_id)
        .filter(
            pk__in=ArticleProblem.objects.for_tenant(article.tenant_id)
            .filter(article=article)
            .values("problem_id")
        )
        .order_by("number")
    )


def problem_articles(*, problem: Problem) -> QuerySet[Article]:
    """Articles written from the problem, newest first, drafts included (for agents): one query."""
    written = ArticleProblem.objects.for_tenant(problem.tenant_id).filter(problem=problem)
    return (
        Article.objects.for_tenant(problem.tenant_id)
        .filter(pk__in=written.values("article_id"))
        .order_by("-created_at", "-id")
    )
