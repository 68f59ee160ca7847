"""The knowledge REST API (/api/v1/articles/). Views validate, fetch inside the tenant (as
knowledge.selectors lets the caller see: requesters only published articles for requesters),
call one service and answer; Idempotency-Key and problem+json come from TenantAPIView.

An article's ETag is its version, which every saved edit raises: a PATCH with If-Match is
refused (412) when someone saved the article since."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from django.db.models import Count, Q
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from incidents.api.base import by_slug, incident_in_body, valid
from incidents.models import Category
from knowledge import serializers as s
from knowledge import services
from knowledge.models import Article, ArticleState, ArticleVote
from knowledge.selectors import article_for_actor, article_search, article_versions
from knowledge.services import ArticleText
from problems.models import Problem
from problems.selectors import parse_problem_reference, problem_for_actor
from tenancy.api.errors import PreconditionFailed
from tenancy.api.views import TenantAPIView
from tenancy.inputs import query_text, whole_number

LIST_LIMIT = 200
WRITERS_ONLY = "Only the desk's agents can write articles."


def with_votes(articles: list[Article], tenant_id: int) -> list[Article]:
    """Each article with its helpful and unhelpful vote counts: one query for them all."""
    counts = {
        row["article_id"]: row
        for row in ArticleVote.objects.for_tenant(tenant_id)
        .filter(article_id__in=[a.pk for a in articles])
        .values("article_id")
        .annotate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    }
    for article in articles:
        row = counts.get(article.pk, {})
        article.helpful_votes = row.get("yes", 0)  # type: ignore[attr-defined]
        article.unhelpful_votes = row.get("no", 0)  # type: ignore[attr-defined]
    return articles


# An API view of the knowledge base. (Comments, not a docstring: drf-spectacular would print an
# inherited docstring in every operation's description.)
class ArticleAPIView(TenantAPIView):
    serializer_class = s.ArticleItemSerializer

    def require_writer(self) -> None:
        # Before the body is read: a requester learns they may not write, not what they mistyped.
        if not self.actor.is_agent_or_above:
            raise exceptions.PermissionDenied(WRITERS_ONLY)

    def items(self, articles: Iterable[Article]) -> list:
        rows = with_votes(list(articles), self.tenant.pk)
        context = {"tenant_slug": self.tenant.slug}
        return s.ArticleItemSerializer(rows, many=True, context=context).data

    def answer(self, article: Article, code: int = 200) -> Response:
        fresh = article_for_actor(actor=self.actor, pk=article.pk)
        response = Response(self.items([fresh])[0], status=code)
        response["ETag"] = f'"{fresh.version}"'
        if code == status.HTTP_201_CREATED:
            response["Location"] = response.data["url"]
        return response

    def category_named(self, slug: str | None) -> Category | None:
        return by_slug(Category, self.actor, slug, "category")


# One article, named by the URL's `pk`; another tenant's, a missing one and one the caller may
# not read are the same 404.
class OneArticleAPIView(ArticleAPIView):
    @cached_property
    def article(self) -> Article:
        pk = self.kwargs["pk"]
        number = whole_number(pk)
        try:
            if number is None:
                raise Http404
            return article_for_actor(actor=self.actor, pk=number)
        except Http404:
            raise Http404(f"No article {pk} here.") from None


STATE_PARAMETER = OpenApiParameter(
    "state", OpenApiTypes.STR, enum=ArticleState.values, description="Only articles in this state."
)
Q_PARAMETER = OpenApiParameter(
    "q", OpenApiTypes.STR, description="Words the title or body has (all of them), best first."
)


class ArticleListView(ArticleAPIView):
    @extend_schema(
        operation_id="articles_list",
        parameters=[Q_PARAMETER, STATE_PARAMETER],
        responses=s.ArticleItemSerializer(many=True),
    )
    def get(self, request) -> Response:
        state = request.query_params.get("state", "")
        if state and state not in ArticleState.values:
            choices = ", ".join(ArticleState.values)
            raise exceptions.ValidationError({"state": [f"Choose a state: {choices}."]})
        text = query_text(request.query_params.get("q", ""))
        found = article_search(actor=self.actor, text=text, state=state, limit=LIST_LIMIT)
        return Response(self.items(found))

    @extend_schema(
        operation_id="articles_create",
        request=s.ArticleCreateSerializer,
        responses={201: s.ArticleItemSerializer},
    )
    def post(self, request) -> Response:
        self.require_writer()
        data = valid(s.ArticleCreateSerializer, request)
        text = ArticleText(
            title=data["title"],
            body=data["body"],
            category=self.category_named(data.get("category")),
            audience=data["audience"],
        )
        incident = incident_in_body(self.actor, data["incident"]) if data.get("incident") else None
        problem = self.problem_named(data["problem"]) if data.get("problem") else None
        article = services.article_create(
            actor=self.actor, text=text, incident=incident, problem=problem
        )
        return self.answer(article, status.HTTP_201_CREATED)

    def problem_named(self, reference: str) -> Problem:
        try:
            number = parse_problem_reference(reference)
            return problem_for_actor(actor=self.actor, number=number)
        except Http404:
            raise exceptions.ValidationError(
                {"problem": [f"No problem {reference} here."]}
            ) from None


class ArticleDetailView(OneArticleAPIView):
    @extend_schema(operation_id="articles_retrieve")
    def get(self, request, pk: str) -> Response:
        return self.answer(self.article)

    @extend_schema(
        operation_id="articles_update",
        request=s.ArticleUpdateSerializer,
        responses=s.ArticleItemSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="The ETag (version) last read: refused with 412 if it changed.",
            )
        ],
    )
    def patch(self, request, pk: str) -> Response:
        self.require_writer()
        article = self.article
        expected = if_match_version(request, article)
        data = valid(s.ArticleUpdateSerializer, request)
        category = article.category
        if "category" in data:
            category = self.category_named(data["category"])
        text = ArticleText(
            title=data.get("title", article.title),
            body=data.get("body", article.body),
            category=category,
            audience=data.get("audience", article.audience),
        )
        services.article_update(
            actor=self.actor, article=article, text=text, expected_version=expected
        )
        return self.answer(article)


def if_match_version(request, article: Article) -> int | None:
    """The version named in If-Match; a mismatch is answered 412 before anything runs. (The
    service checks it again under its lock: a save in between is a 409.)"""
    raw = request.headers.get("If-Match")
    if not raw:
        return None
    seen = whole_number(raw.strip().removeprefix("W/").strip('"'))
    if seen != article.version:
        raise PreconditionFailed(
            f"Someone saved this article since: it is at version {article.version}; your "
            f"If-Match was {raw}. Read it again and reapply your change."
        )
    return article.version


class ArticlePublishView(OneArticleAPIView):
    staff_only = True

    @extend_schema(operation_id="articles_publish", request=None, responses=s.ArticleItemSerializer)
    def post(self, request, pk: str) -> Response:
        services.article_publish(actor=self.actor, article=self.article)
        return self.answer(self.article)


class ArticleRetireView(OneArticleAPIView):
    staff_only = True

    @extend_schema(operation_id="articles_retire", request=None, responses=s.ArticleItemSerializer)
    def post(self, request, pk: str) -> Response:
        services.article_retire(actor=self.actor, article=self.article)
        return self.answer(self.article)


class ArticleVersionsView(OneArticleAPIView):
    staff_only = True  # drafts' earlier texts are the desk's own, as the history page is
    serializer_class = s.ArticleVersionSerializer

    @extend_schema(
        operation_id="articles_versions_list", responses=s.ArticleVersionSerializer(many=True)
    )
    def get(self, request, pk: str) -> Response:
        rows = article_versions(article=self.article).order_by("-number")
        return Response(s.ArticleVersionSerializer(rows, many=True).data)
