"""Integrations over the API: list, create (the key in the answer, once), change or disable,
rotate the key, read the alert log. Configuration: writes need the admin scope or role."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from incidents.api.base import valid
from incidents.intake.services import integration_change, integration_create, integration_rotate_key
from incidents.models import AlertLog, AlertOutcome, Integration, IntegrationKind
from tenancy.api.views import TenantAPIView


class RuleSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.CharField()
    impact = serializers.CharField()
    urgency = serializers.CharField()
    category = serializers.CharField(required=False)


class IntegrationSerializer(serializers.ModelSerializer):
    default_category = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    rules = RuleSerializer(many=True, read_only=True)
    mapping = serializers.DictField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Integration
        fields = [
            "id", "kind", "name", "key_prefix", "enabled", "rules", "default_impact",
            "default_urgency", "default_category", "resolve_on_resolved", "group_alerts", "mapping",
            "created_at", "key_rotated_at",
        ]  # fmt: skip
        read_only_fields = fields


class IntegrationWithKeySerializer(IntegrationSerializer):
    key = serializers.CharField(help_text="The integration key: shown in this answer only.")

    class Meta(IntegrationSerializer.Meta):
        fields = [*IntegrationSerializer.Meta.fields, "key"]
        read_only_fields = fields


class IntegrationWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IntegrationKind.choices, required=False)
    name = serializers.CharField(max_length=100, required=False)
    enabled = serializers.BooleanField(required=False)
    rules = RuleSerializer(many=True, required=False)
    default_impact = serializers.CharField(required=False)
    default_urgency = serializers.CharField(required=False)
    default_category = serializers.CharField(required=False, allow_blank=True)
    resolve_on_resolved = serializers.BooleanField(required=False)
    group_alerts = serializers.BooleanField(required=False)
    mapping = serializers.DictField(child=serializers.CharField(), required=False)


class AlertLogSerializer(serializers.ModelSerializer):
    incident = serializers.SlugRelatedField(slug_field="reference", read_only=True)

    class Meta:
        model = AlertLog
        fields = ["received_at", "outcome", "action", "dedup_key", "summary", "reason", "incident"]
        read_only_fields = fields


class IntegrationAPIView(TenantAPIView):
    admin_write = True
    staff_only = True

    def get_integration(self, integration_id: int) -> Integration:
        found = Integration.objects.for_tenant(self.tenant).filter(pk=integration_id).first()
        if found is None:
            raise exceptions.NotFound("No such integration.")
        return found


class IntegrationListView(IntegrationAPIView):
    serializer_class = IntegrationSerializer

    @extend_schema(responses={200: IntegrationSerializer(many=True)})
    def get(self, request) -> Response:
        rows = Integration.objects.for_tenant(self.tenant).select_related("default_category")
        return Response(IntegrationSerializer(rows, many=True).data)

    @extend_schema(
        request=IntegrationWriteSerializer, responses={201: IntegrationWithKeySerializer}
    )
    def post(self, request) -> Response:
        data = dict(valid(IntegrationWriteSerializer, request))
        if "kind" not in data:
            raise exceptions.ValidationError({"kind": ["Name the kind of integration."]})
        integration, key = integration_create(actor=self.actor, **data)
        integration.key = key  # type: ignore[attr-defined]
        return Response(IntegrationWithKeySerializer(integration).data, status=201)


class IntegrationDetailView(IntegrationAPIView):
    serializer_class = IntegrationSerializer

    @extend_schema(responses={200: IntegrationSerializer})
    def get(self, request, integration_id: int) -> Response:
        return Response(IntegrationSerializer(self.get_integration(integration_id)).data)

    @extend_schema(request=IntegrationWriteSerializer, responses={200: IntegrationSerializer})
    def patch(self, request, integration_id: int) -> Response:
        data = dict(valid(IntegrationWriteSerializer, request))
        data.pop("kind", None)
        self.get_integration(integration_id)
        integration = integration_change(actor=self.actor, integration_id=integration_id, **data)
        return Response(IntegrationSerializer(integration).data)


class IntegrationRotateKeyView(IntegrationAPIView):
    serializer_class = IntegrationWithKeySerializer

    @extend_schema(request=None, responses={200: IntegrationWithKeySerializer})
    def post(self, request, integration_id: int) -> Response:
        self.get_integration(integration_id)
        integration, key = integration_rotate_key(actor=self.actor, integration_id=integration_id)
        integration.key = key  # type: ignore[attr-defined]
        return Response(IntegrationWithKeySerializer(integration).data)


class IntegrationLogView(IntegrationAPIView):
    serializer_class = AlertLogSerializer

    @extend_schema(responses={200: AlertLogSerializer(many=True)})
    def get(self, request, integration_id: int) -> Response:
        integration = self.get_integration(integration_id)
        rows = AlertLog.objects.for_tenant(self.tenant).filter(integration=integration)
        outcome = request.GET.get("outcome", "")
        if outcome in AlertOutcome.values:
            rows = rows.filter(outcome=outcome)
        rows = rows.select_related("incident")[:200]
        return Response(AlertLogSerializer(rows, many=True).data)
