"""Canned responses over the API: the organisation's and, in a person's session, their own.

What a caller sees is what the desk's picker offers them (incidents.selectors.canned): an API
key (no person) the organisation's; an agent's session those and the agent's own. Another
agent's personal response and another tenant's are a 404. Writes need the write scope; the
organisation's responses are configuration, so changing them needs the admin scope (a key) or
an admin (a session). Requesters may not call it at all."""

from __future__ import annotations

from functools import cached_property

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from incidents.api.base import valid
from incidents.models import CannedResponse
from incidents.models.canned import PLACEHOLDERS, placeholders_in
from incidents.selectors.canned import canned_response_for_actor, canned_responses_for_actor
from incidents.services import canned
from tenancy.api.views import TenantAPIView

SCOPES = [
    ("tenant", "The organisation's, offered to every agent"),
    ("personal", "The caller's own"),
]
PLACEHOLDER_HELP = "Placeholders, filled in when an agent inserts the response: " + ", ".join(
    f"{{{name}}}" for name in PLACEHOLDERS
)


class CannedResponseSerializer(serializers.ModelSerializer):
    scope = serializers.ChoiceField(choices=SCOPES, read_only=True)
    owner = serializers.SerializerMethodField(help_text="The owner's email; null for the tenant's.")
    placeholders = serializers.SerializerMethodField(help_text="The placeholders the text uses.")

    class Meta:
        model = CannedResponse
        fields = [
            "id",
            "name",
            "body",
            "scope",
            "owner",
            "placeholders",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_owner(self, obj: CannedResponse) -> str | None:
        return obj.owner.email if obj.owner else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_placeholders(self, obj: CannedResponse) -> list[str]:
        return placeholders_in(obj.body)


class CannedResponseWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=canned.NAME_MAX)
    body = serializers.CharField(
        max_length=canned.BODY_MAX, trim_whitespace=False, help_text=PLACEHOLDER_HELP
    )
    scope = serializers.ChoiceField(
        choices=SCOPES,
        required=False,
        help_text="Default: personal in a person's session, tenant with an API key.",
    )


class CannedResponsePatchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=canned.NAME_MAX, required=False)
    body = serializers.CharField(
        max_length=canned.BODY_MAX,
        trim_whitespace=False,
        required=False,
        help_text=PLACEHOLDER_HELP,
    )
    scope = serializers.ChoiceField(
        choices=SCOPES, required=False, help_text="Fixed once created: only the same is accepted."
    )


class CannedResponseAPIView(TenantAPIView):
    staff_only = True
    serializer_class = CannedResponseSerializer

    def rows(self) -> QuerySet[CannedResponse]:
        return canned_responses_for_actor(actor=self.actor).select_related("owner")

    def check_scope_write(self, scope: str) -> None:
        """The organisation's responses are configuration: a key needs the admin scope."""
        actor = self.actor
        is_key = actor.kind == "integration"
        if scope == "tenant" and is_key and "admin" not in actor.api_key.scope_list:
            raise exceptions.PermissionDenied(
                "This key lacks the admin scope: the organisation's canned responses are "
                "configuration."
            )

    def answer(self, response: CannedResponse, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.rows().get(pk=response.pk)
        answer = Response(CannedResponseSerializer(fresh).data, status=code)
        if code == status.HTTP_201_CREATED:
            answer["Location"] = reverse("api-canned-response", kwargs={"pk": fresh.pk})
        return answer


class CannedResponseListView(CannedResponseAPIView):
    @extend_schema(
        operation_id="canned_responses_list",
        parameters=[
            OpenApiParameter("scope", OpenApiTypes.STR, enum=["tenant", "personal"], required=False)
        ],
        responses=CannedResponseSerializer(many=True),
    )
    def get(self, request) -> Response:
        rows = self.rows()
        scope = request.query_params.get("scope", "")
        if scope not in ("", "tenant", "personal"):
            raise exceptions.ValidationError({"scope": ["Use tenant or personal."]})
        if scope:
            rows = rows.filter(owner__isnull=scope == "tenant")
        return Response(CannedResponseSerializer(rows, many=True).data)

    @extend_schema(
        operation_id="canned_responses_create",
        request=CannedResponseWriteSerializer,
        responses={201: CannedResponseSerializer},
    )
    def post(self, request) -> Response:
        data = valid(CannedResponseWriteSerializer, request)
        default = "tenant" if self.actor.user_id is None else "personal"
        scope = data.get("scope", default)
        self.check_scope_write(scope)
        response = canned.canned_response_create(
            actor=self.actor, name=data["name"], body=data["body"], personal=scope == "personal"
        )
        return self.answer(response, status.HTTP_201_CREATED)


class CannedResponseDetailView(CannedResponseAPIView):
    @cached_property
    def item(self) -> CannedResponse:
        return canned_response_for_actor(actor=self.actor, pk=self.kwargs["pk"])

    def get(self, request, pk: int) -> Response:
        return Response(CannedResponseSerializer(self.item).data)

    @extend_schema(request=CannedResponsePatchSerializer, responses=CannedResponseSerializer)
    def patch(self, request, pk: int) -> Response:
        item = self.item
        data = valid(CannedResponsePatchSerializer, request)
        if data.get("scope", item.scope) != item.scope:
            raise exceptions.ValidationError(
                {"scope": ["A canned response keeps its scope: create a new one instead."]}
            )
        self.check_scope_write(item.scope)
        item = canned.canned_response_update(
            actor=self.actor,
            response=item,
            name=data.get("name", item.name),
            body=data.get("body", item.body),
        )
        return self.answer(item)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int) -> Response:
        self.check_scope_write(self.item.scope)
        canned.canned_response_delete(actor=self.actor, response=self.item)
        return Response(status=status.HTTP_204_NO_CONTENT)
