"""Webhook subscriptions over the API: the same endpoints the settings page manages.
Admin scope (or an admin's session) only: endpoints carry their signing secret."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from escalation.api import serializers as s
from escalation.models import Notification, WebhookEndpoint
from escalation.services import webhooks
from tenancy.api.views import TenantAPIView


class WebhookAPIView(TenantAPIView):
    admin_write = True
    admin_read = True

    def endpoint(self, pk: int) -> WebhookEndpoint:
        found = WebhookEndpoint.objects.for_tenant(self.tenant).filter(pk=pk).first()
        if found is None:
            raise Http404("No such webhook endpoint here.")
        return found


def _valid(serializer_class, request, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class WebhookListView(WebhookAPIView):
    serializer_class = s.WebhookEndpointSerializer

    @extend_schema(responses=s.WebhookEndpointSerializer(many=True), operation_id="webhooks_list")
    def get(self, request) -> Response:
        rows = WebhookEndpoint.objects.for_tenant(self.tenant).order_by("pk")
        return Response(s.WebhookEndpointSerializer(rows, many=True).data)

    @extend_schema(
        request=s.WebhookEndpointWriteSerializer,
        responses={201: s.WebhookEndpointSerializer},
        operation_id="webhooks_create",
    )
    def post(self, request) -> Response:
        data = _valid(s.WebhookEndpointWriteSerializer, request)
        endpoint = webhooks.webhook_endpoint_create(actor=self.actor, **data)
        return Response(s.WebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(WebhookAPIView):
    serializer_class = s.WebhookEndpointSerializer

    def get(self, request, pk: int) -> Response:
        return Response(s.WebhookEndpointSerializer(self.endpoint(pk)).data)

    @extend_schema(request=s.WebhookEndpointPatchSerializer, responses=s.WebhookEndpointSerializer)
    def patch(self, request, pk: int) -> Response:
        endpoint = self.endpoint(pk)
        data = _valid(s.WebhookEndpointPatchSerializer, request, partial=True)
        current = {
            "url": endpoint.url,
            "events": endpoint.events,
            "description": endpoint.description,
            "slack_format": endpoint.slack_format,
            "is_active": endpoint.is_active,
        }
        endpoint = webhooks.webhook_endpoint_update(
            actor=self.actor, endpoint=endpoint, **{**current, **data}
        )
        return Response(s.WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int) -> Response:
        webhooks.webhook_endpoint_delete(actor=self.actor, endpoint=self.endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryListView(WebhookAPIView):
    serializer_class = s.WebhookDeliverySerializer

    @extend_schema(responses=s.WebhookDeliverySerializer(many=True))
    def get(self, request, pk: int) -> Response:
        rows = webhooks.endpoint_deliveries(endpoint=self.endpoint(pk))
        return Response(s.WebhookDeliverySerializer(rows, many=True).data)


class WebhookRedeliverView(WebhookAPIView):
    serializer_class = s.WebhookDeliverySerializer

    @extend_schema(request=None, responses={202: s.WebhookDeliverySerializer})
    def post(self, request, pk: int, delivery_id: int) -> Response:
        endpoint = self.endpoint(pk)
        delivery = (
            Notification.objects.for_tenant(self.tenant)
            .filter(endpoint=endpoint, pk=delivery_id)
            .select_related("endpoint")
            .first()
        )
        if delivery is None:
            raise Http404("No such delivery of this endpoint.")
        delivery = webhooks.webhook_delivery_redeliver(actor=self.actor, delivery=delivery)
        return Response(s.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
