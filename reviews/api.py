"""The reviews REST API (/api/v1/reviews/), for agents and up. A review is named by its
incident's number, as on the pages. Views validate, fetch inside the tenant (as
reviews.selectors lets the caller see), call one service and answer; who may start, edit and
publish is reviews.rules', asked before the body is read and again by the services (a refusal
is a 403 problem)."""

from __future__ import annotations

from functools import cached_property

from django.http import Http404
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from incidents.api.base import incident_in_body, member_by_email, valid
from incidents.api.serializers import parse_number
from reviews import serializers as s
from reviews import services
from reviews.models import ActionItem, Review, ReviewState, TimelineEntry
from reviews.rules import check_edit, check_start
from reviews.selectors import review_actions, review_timeline, reviews_for_actor
from tenancy.api.views import TenantAPIView
from tenancy.inputs import whole_number
from tenancy.replicas import replica_reads

LIST_LIMIT = 200


def review_answer(view: ReviewAPIView, review: Review, code: int = 200) -> Response:
    """The review as the caller may now see it, with its timeline and action items, read
    through the selectors (tenant-scoped), not the relations ReviewDetailSerializer names."""
    review = reviews_for_actor(actor=view.actor).get(pk=review.pk)
    data = dict(s.ReviewItemSerializer(review, context=view.context).data)
    data["timeline"] = s.TimelineEntrySerializer(review_timeline(review), many=True).data
    data["actions"] = s.ActionItemSerializer(review_actions(review), many=True).data
    response = Response(data, status=code)
    if code == status.HTTP_201_CREATED:
        response["Location"] = data["url"]
    return response


# An API view of the reviews, agents and up. (Comments, not a docstring: drf-spectacular would
# print an inherited docstring in every operation's description.)
class ReviewAPIView(TenantAPIView):
    staff_only = True
    serializer_class = s.ReviewItemSerializer

    @property
    def context(self) -> dict:
        return {"tenant_slug": self.tenant.slug}


# One review, named by the URL's `number` (its incident's: INC-000042 or 42); another tenant's,
# a missing one and a draft the caller may not see are the same 404.
class OneReviewAPIView(ReviewAPIView):
    @cached_property
    def review(self) -> Review:
        raw = self.kwargs["number"]
        number = parse_number(raw)
        found = reviews_for_actor(actor=self.actor).filter(incident__number=number)
        review = found.first() if number is not None else None
        if review is None:
            raise Http404(f"No review of incident {raw} here.")
        return review

    def answer(self, code: int = 200) -> Response:
        return review_answer(self, self.review, code)

    def editable(self) -> Review:
        review = self.review
        check_edit(self.actor, review)
        return review


STATE_PARAMETER = OpenApiParameter(
    "state", OpenApiTypes.STR, enum=ReviewState.values, description="Only reviews in this state."
)


@method_decorator(replica_reads, name="get")
class ReviewListView(ReviewAPIView):
    @extend_schema(
        operation_id="reviews_list",
        parameters=[STATE_PARAMETER],
        responses=s.ReviewItemSerializer(many=True),
    )
    def get(self, request) -> Response:
        rows = reviews_for_actor(actor=self.actor)
        state = request.query_params.get("state", "")
        if state:
            if state not in ReviewState.values:
                choices = ", ".join(ReviewState.values)
                raise exceptions.ValidationError({"state": [f"Choose a state: {choices}."]})
            rows = rows.filter(state=state)
        rows = rows.order_by("-created_at", "-id")[:LIST_LIMIT]
        return Response(s.ReviewItemSerializer(rows, many=True, context=self.context).data)

    @extend_schema(
        operation_id="reviews_start",
        request=s.ReviewStartSerializer,
        responses={201: s.ReviewDetailSerializer, 200: s.ReviewDetailSerializer},
    )
    def post(self, request) -> Response:
        check_start(self.actor)
        data = valid(s.ReviewStartSerializer, request)
        incident = incident_in_body(self.actor, data["incident"])
        existed = Review.objects.for_tenant(self.tenant).filter(incident=incident).exists()
        review = services.review_start(actor=self.actor, incident=incident)
        return review_answer(
            self, review, status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


class ReviewDetailView(OneReviewAPIView):
    serializer_class = s.ReviewDetailSerializer

    @extend_schema(operation_id="reviews_retrieve", responses=s.ReviewDetailSerializer)
    def get(self, request, number: str) -> Response:
        return self.answer()

    @extend_schema(
        operation_id="reviews_update",
        request=s.ReviewTextsSerializer,
        responses=s.ReviewDetailSerializer,
    )
    def patch(self, request, number: str) -> Response:
        review = self.editable()
        texts = valid(s.ReviewTextsSerializer, request)
        services.review_edit(actor=self.actor, review=review, **texts)
        return self.answer()


class ReviewPublishView(OneReviewAPIView):
    serializer_class = s.ReviewDetailSerializer

    @extend_schema(operation_id="reviews_publish", request=None, responses=s.ReviewDetailSerializer)
    def post(self, request, number: str) -> Response:
        services.review_publish(actor=self.actor, review=self.editable())
        return self.answer()


class TimelineView(OneReviewAPIView):
    serializer_class = s.TimelineEntrySerializer

    @extend_schema(
        operation_id="reviews_timeline_list", responses=s.TimelineEntrySerializer(many=True)
    )
    def get(self, request, number: str) -> Response:
        rows = review_timeline(self.review)
        return Response(s.TimelineEntrySerializer(rows, many=True).data)

    @extend_schema(
        operation_id="reviews_timeline_add",
        request=s.TimelineEntryWriteSerializer,
        responses={201: s.TimelineEntrySerializer},
    )
    def post(self, request, number: str) -> Response:
        review = self.editable()
        data = valid(s.TimelineEntryWriteSerializer, request)
        entry = services.timeline_entry_add(actor=self.actor, review=review, **data)
        return Response(s.TimelineEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class TimelineEntryView(OneReviewAPIView):
    serializer_class = s.TimelineEntrySerializer

    @cached_property
    def entry(self) -> TimelineEntry:
        pk = whole_number(self.kwargs["pk"])
        entry = review_timeline(self.review).filter(pk=pk).first() if pk is not None else None
        if entry is None:
            raise Http404(f"No timeline entry {self.kwargs['pk']} in this review.")
        return entry

    @extend_schema(
        operation_id="reviews_timeline_update",
        request=s.TimelineEntryUpdateSerializer,
        responses=s.TimelineEntrySerializer,
    )
    def patch(self, request, number: str, pk: str) -> Response:
        check_edit(self.actor, self.review)
        entry = self.entry
        data = valid(s.TimelineEntryUpdateSerializer, request)
        entry = services.timeline_entry_edit(
            actor=self.actor,
            entry=entry,
            at=data.get("at", entry.at),
            text=data.get("text", entry.text),
        )
        return Response(s.TimelineEntrySerializer(entry).data)

    @extend_schema(operation_id="reviews_timeline_delete", responses={204: None})
    def delete(self, request, number: str, pk: str) -> Response:
        check_edit(self.actor, self.review)
        services.timeline_entry_remove(actor=self.actor, entry=self.entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActionsView(OneReviewAPIView):
    serializer_class = s.ActionItemSerializer

    @extend_schema(operation_id="reviews_actions_list", responses=s.ActionItemSerializer(many=True))
    def get(self, request, number: str) -> Response:
        return Response(s.ActionItemSerializer(review_actions(self.review), many=True).data)

    @extend_schema(
        operation_id="reviews_actions_add",
        request=s.ActionItemCreateSerializer,
        responses={201: s.ActionItemSerializer},
    )
    def post(self, request, number: str) -> Response:
        review = self.editable()
        data = valid(s.ActionItemCreateSerializer, request)
        item = services.action_item_add(
            actor=self.actor,
            review=review,
            title=data["title"],
            owner=member_by_email(self.actor, data["owner"], "owner"),
            due_date=data["due_date"],
        )
        return Response(s.ActionItemSerializer(item).data, status=status.HTTP_201_CREATED)


class OneActionView(OneReviewAPIView):
    serializer_class = s.ActionItemSerializer

    @cached_property
    def item(self) -> ActionItem:
        pk = whole_number(self.kwargs["pk"])
        item = review_actions(self.review).filter(pk=pk).first() if pk is not None else None
        if item is None:
            raise Http404(f"No action {self.kwargs['pk']} in this review.")
        return item


class ActionView(OneActionView):
    @extend_schema(operation_id="reviews_actions_delete", responses={204: None})
    def delete(self, request, number: str, pk: str) -> Response:
        check_edit(self.actor, self.review)
        services.action_item_remove(actor=self.actor, item=self.item)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActionDoneView(OneActionView):
    # The action's owner may mark it done without being allowed to edit the review: the service
    # asks reviews.rules.
    @extend_schema(
        operation_id="reviews_actions_done",
        request=s.ActionItemDoneSerializer,
        responses=s.ActionItemSerializer,
    )
    def post(self, request, number: str, pk: str) -> Response:
        data = valid(s.ActionItemDoneSerializer, request)
        item = services.action_item_set_done(actor=self.actor, item=self.item, done=data["done"])
        return Response(s.ActionItemSerializer(item).data)
