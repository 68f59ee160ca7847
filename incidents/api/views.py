"""The incidents REST API (/api/v1/). Views validate, fetch inside the tenant, call one service
and answer; every write goes through incidents.services like the browser's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.decorators import method_decorator
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from incidents import services
from incidents.api import serializers as s
from incidents.api.base import (
    IncidentAPIView,
    by_slug,
    if_match_version,
    incident_in_body,
    incident_response,
    member_by_email,
    valid,
)
from incidents.api.filters import IncidentFilter
from incidents.api.pagination import IncidentCursorPagination
from incidents.models import AssignmentGroup, Category, Incident, IncidentEvent
from incidents.rules import allowed_transitions
from incidents.selectors import INCIDENT_RELATED, attachments_visible_to, incidents_for_actor
from tenancy.api.views import TenantAPIView
from tenancy.models import Membership, User
from tenancy.replicas import replica_reads


# Integrations' lists may read a streaming replica (tenancy/replicas.py); writes never do.
@method_decorator(replica_reads, name="get")
class IncidentListView(TenantAPIView):
    serializer_class = s.IncidentSerializer
    pagination_class = IncidentCursorPagination
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = IncidentFilter
    ordering_fields = ["updated_at", "reported_at", "priority_rank", "number"]

    def get_queryset(self) -> QuerySet[Incident]:
        return incidents_for_actor(actor=self.actor).select_related(*INCIDENT_RELATED)

    @extend_schema(operation_id="incidents_list", responses=s.IncidentPageSerializer)
    def get(self, request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=s.IncidentCreateSerializer,
        responses={201: s.IncidentSerializer},
        operation_id="incidents_create",
    )
    def post(self, request, *args, **kwargs) -> Response:
        data = valid(s.IncidentCreateSerializer, request)
        actor = self.actor
        reporter, contact = self._reporter(data.get("reporter"))
        incident = services.incident_report(
            actor=actor,
            title=data["title"],
            description=data.get("description", ""),
            impact=data["impact"],
            urgency=data["urgency"],
            category_slug=data.get("category"),
            reporter=reporter,
            contact_name=contact.get("name", ""),
            contact_email=contact.get("email", ""),
        )
        return incident_response(incident, request, status.HTTP_201_CREATED, fresh=True)

    def _reporter(self, person: dict | None) -> tuple[User | None, dict]:
        if self.actor.is_requester or not person:
            return None, {}
        member = (
            Membership.objects.for_tenant(self.actor.tenant)
            .select_related("user")
            .filter(user__email__iexact=person["email"], is_active=True, user__is_active=True)
            .first()
        )
        # Anyone else, a deactivated member included, is recorded as an external contact.
        return (member.user, {}) if member else (None, person)


class IncidentDetailView(IncidentAPIView):
    serializer_class = s.IncidentSerializer

    def get(self, request, number: str) -> Response:
        return incident_response(self.incident, request)

    @extend_schema(request=s.IncidentUpdateSerializer, responses=s.IncidentSerializer)
    def patch(self, request, number: str) -> Response:
        incident = self.incident
        expected = if_match_version(request, incident)
        data = dict(valid(s.IncidentUpdateSerializer, request))
        reason = data.pop("reason", "")
        if "category" in data:
            data["category"] = by_slug(Category, self.actor, data["category"], "category")
        incident = services.incident_update(
            incident=incident, actor=self.actor, expected_version=expected, reason=reason, **data
        )
        return incident_response(incident, request)


class TransitionListView(IncidentAPIView):
    serializer_class = s.TransitionsSerializer

    def get(self, request, number: str) -> Response:
        incident = self.incident
        return Response(
            {"state": incident.state, "allowed": allowed_transitions(self.actor, incident)}
        )


class TransitionView(IncidentAPIView):
    """POST /incidents/{number}/{action}/ for the eight lifecycle transitions."""

    serializer_class = s.IncidentSerializer

    action_name = ""

    def post(self, request, number: str) -> Response:
        action = self.action_name
        incident = self.incident
        expected = if_match_version(request, incident)
        data = valid(s.TRANSITION_SERIALIZERS[action], request)
        run = getattr(self, f"_{action}")
        incident = run(incident, data, expected)
        return incident_response(incident, request)

    def _escalate(self, incident, data, expected):
        return services.incident_escalate(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            group=by_slug(AssignmentGroup, self.actor, data.get("group"), "group"),
            assignee=member_by_email(self.actor, data.get("assignee"), "assignee"),
            reason=data.get("reason", ""),
        )

    def _accept(self, incident, data, expected):
        return services.incident_accept(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            assignee=member_by_email(self.actor, data.get("assignee"), "assignee"),
        )

    def _hold(self, incident, data, expected):
        return services.incident_hold(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            hold_reason=data["hold_reason"],
            note=data.get("note", ""),
        )

    def _resume(self, incident, data, expected):
        return services.incident_resume(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            note=data.get("note", ""),
        )

    def _resolve(self, incident, data, expected):
        return services.incident_resolve(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            resolution_code=data["resolution_code"],
            resolution_notes=data["resolution_notes"],
        )

    def _reopen(self, incident, data, expected):
        return services.incident_reopen(
            incident=incident, actor=self.actor, expected_version=expected, reason=data["reason"]
        )

    def _close(self, incident, data, expected):
        return services.incident_close(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            rating=data.get("rating"),
            comment=data.get("comment", ""),
            on_reporters_word=not self.actor.is_requester,
        )

    def _cancel(self, incident, data, expected):
        original = None
        if data.get("duplicate_of"):
            original = incident_in_body(self.actor, data["duplicate_of"], "duplicate_of")
        return services.incident_cancel(
            incident=incident,
            actor=self.actor,
            expected_version=expected,
            reason=data.get("reason", ""),
            duplicate_of=original,
        )


def transition_view(action: str):
    """A TransitionView subclass per action, so the schema shows each one's request body."""
    view = type(f"{action.capitalize()}TransitionView", (TransitionView,), {"action_name": action})
    return extend_schema_view(
        post=extend_schema(
            request=s.TRANSITION_SERIALIZERS[action],
            responses=s.IncidentSerializer,
            operation_id=f"incidents_{action}",
            summary=f"{action.capitalize()} an incident",
        )
    )(view)


@method_decorator(replica_reads, name="get")
class EventListView(IncidentAPIView):
    serializer_class = s.EventSerializer

    @extend_schema(responses=s.EventSerializer(many=True))
    def get(self, request, number: str) -> Response:
        incident = self.incident
        events = IncidentEvent.objects.for_tenant(self.tenant).filter(incident=incident)
        if self.actor.is_requester:
            events = events.filter(public=True)
        return Response(s.EventSerializer(events.order_by("created_at", "id"), many=True).data)


@method_decorator(replica_reads, name="get")
class CommentListView(IncidentAPIView):
    serializer_class = s.CommentSerializer

    @extend_schema(responses=s.CommentSerializer(many=True))
    def get(self, request, number: str) -> Response:
        incident = self.incident
        comments = incident.comments.filter(tenant=self.tenant)
        if self.actor.is_requester:
            comments = comments.filter(public=True)
        return Response(s.CommentSerializer(comments, many=True).data)

    @extend_schema(request=s.CommentCreateSerializer, responses={201: s.CommentSerializer})
    def post(self, request, number: str) -> Response:
        incident = self.incident
        data = valid(s.CommentCreateSerializer, request)
        comment = services.comment_add(
            incident=incident, actor=self.actor, body=data["body"], public=data["public"]
        )
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


@method_decorator(replica_reads, name="get")
class AttachmentListView(IncidentAPIView):
    serializer_class = s.AttachmentSerializer

    @extend_schema(responses=s.AttachmentSerializer(many=True))
    def get(self, request, number: str) -> Response:
        incident = self.incident
        files = attachments_visible_to(actor=self.actor, incident=incident)
        files = files.select_related("incident")
        return Response(s.AttachmentSerializer(files, many=True).data)

    @extend_schema(
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer},
    )
    def post(self, request, number: str) -> Response:
        incident = self.incident
        data = valid(s.AttachmentUploadSerializer, request)
        attachment = services.attachment_add(
            incident=incident, actor=self.actor, upload=data["file"], public=data["public"]
        )
        return Response(s.AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadView(IncidentAPIView):
    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    def get(self, request, number: str, attachment_id: int):
        incident = self.incident
        files = attachments_visible_to(actor=self.actor, incident=incident)
        attachment = files.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404("No such attachment.")
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type,
        )
