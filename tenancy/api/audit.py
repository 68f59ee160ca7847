"""GET /api/v1/audit/: the tenant's audit log for admin-scoped keys and admins' sessions, with
the settings page's filters as query parameters, newest first, in cursor pages."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from tenancy.api.views import TenantAPIView
from tenancy.audit import action_in_words, changes_in_words
from tenancy.audit_log import PER_PAGE, AuditFilterForm, actor_in_words, audit_records
from tenancy.models import AuditRecord


class AuditCursorPagination(CursorPagination):
    page_size = PER_PAGE
    ordering = ("-at", "-id")  # the tenant-first index audit_latest


class AuditRecordSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    action_text = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    before = serializers.DictField()
    after = serializers.DictField()

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "at",
            "actor",
            "actor_kind",
            "action",
            "action_text",
            "target_type",
            "target_id",
            "target_label",
            "before",
            "after",
            "changes",
            "address",
        ]

    def get_actor(self, record: AuditRecord) -> str:
        return actor_in_words(record)

    def get_action_text(self, record: AuditRecord) -> str:
        return action_in_words(record.action)

    def get_changes(self, record: AuditRecord) -> list[str]:
        return changes_in_words(record)


class AuditPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditRecordSerializer(many=True)


def _text(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, description=description)


def _day(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, description=description)


FILTER_PARAMETERS = [
    _text("actor", "Part of the actor's name, email or API key name."),
    _text("action", "An action name, e.g. member.role_changed."),
    _text("target", "Part of the changed thing's name, or its kind (e.g. apikey)."),
    _day("date_from", "First day, in the tenant's time zone."),
    _day("date_to", "Last day, in the tenant's time zone (included)."),
]


class AuditListView(TenantAPIView):
    admin_write = True
    admin_read = True  # the log names people, addresses and settings: admins only
    serializer_class = AuditRecordSerializer
    pagination_class = AuditCursorPagination

    @extend_schema(
        operation_id="audit_list", parameters=FILTER_PARAMETERS, responses=AuditPageSerializer
    )
    def get(self, request) -> Response:
        form = AuditFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(_messages(form))
        records = audit_records(tenant=self.tenant, filters=form.cleaned_data)
        page = self.paginate_queryset(records)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _messages(form: AuditFilterForm) -> dict[str, list[str]]:
    return {field: [str(m) for m in errors] for field, errors in form.errors.items()}
