"""Email intake over the API: the same intake addresses, policy and received messages as the
settings pages, through the same services. Admin scope (or an admin's session) only, reads
included: the addresses carry mailbox settings, and the messages other people's mail."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from incidents.models import Category
from mail.api import serializers as s
from mail.models import InboundStatus, IntakeAddress
from mail.selectors import inbound_for_settings, intake_addresses_for_settings, mail_policy_for
from mail.services import admin
from tenancy.api.views import TenantAPIView


class MailAPIView(TenantAPIView):
    admin_write = True
    admin_read = True

    def intake(self, pk: int) -> IntakeAddress:
        found = intake_addresses_for_settings(self.tenant).filter(pk=pk).first()
        if found is None:
            raise Http404("No such intake address here.")
        return found

    def category(self, slug: str | None) -> Category | None:
        if not slug:
            return None
        found = (
            None
            if "\x00" in slug
            else Category.objects.for_tenant(self.tenant).filter(slug=slug).first()
        )
        if found is None:
            raise exceptions.ValidationError({"category": [f"No category {slug!r} here."]})
        return found


def _valid(serializer_class, request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _intake_answer(view: MailAPIView, intake: IntakeAddress, code: int = 200) -> Response:
    response = Response(s.IntakeAddressSerializer(view.intake(intake.pk)).data, status=code)
    if code == status.HTTP_201_CREATED:
        response["Location"] = reverse("api-mail-intake-address", kwargs={"pk": intake.pk})
    return response


def _activation(view: MailAPIView, intake: IntakeAddress, wanted: bool) -> IntakeAddress:
    if wanted == intake.is_active:
        return intake
    service = admin.intake_address_reactivate if wanted else admin.intake_address_deactivate
    return service(actor=view.actor, intake=intake)


class IntakeAddressListView(MailAPIView):
    serializer_class = s.IntakeAddressSerializer

    @extend_schema(responses=s.IntakeAddressSerializer(many=True))
    def get(self, request) -> Response:
        rows = intake_addresses_for_settings(self.tenant)
        return Response(s.IntakeAddressSerializer(rows, many=True).data)

    @extend_schema(
        request=s.IntakeAddressWriteSerializer, responses={201: s.IntakeAddressSerializer}
    )
    def post(self, request) -> Response:
        data = _valid(s.IntakeAddressWriteSerializer, request)
        active = data.pop("is_active")
        data["category"] = self.category(data.get("category"))
        with transaction.atomic():  # created and, when asked, deactivated: both or neither
            intake = admin.intake_address_create(actor=self.actor, **data)
            intake = _activation(self, intake, active)
        return _intake_answer(self, intake, status.HTTP_201_CREATED)


class IntakeAddressDetailView(MailAPIView):
    serializer_class = s.IntakeAddressSerializer

    def get(self, request, pk: int) -> Response:
        return Response(s.IntakeAddressSerializer(self.intake(pk)).data)

    @extend_schema(request=s.IntakeAddressPatchSerializer, responses=s.IntakeAddressSerializer)
    def patch(self, request, pk: int) -> Response:
        intake = self.intake(pk)
        data = _valid(s.IntakeAddressPatchSerializer, request)
        active = data.pop("is_active", intake.is_active)
        if "category" in data:
            data["category"] = self.category(data["category"])
        current = {
            "address": intake.address,
            "category": intake.category,
            "impact": intake.impact,
            "urgency": intake.urgency,
            "imap_enabled": intake.imap_enabled,
            "imap_host": intake.imap_host,
            "imap_port": intake.imap_port,
            "imap_security": intake.imap_security,
            "imap_username": intake.imap_username,
            "imap_folder": intake.imap_folder,
        }
        with transaction.atomic():  # a refused part undoes the rest
            if data:
                intake = admin.intake_address_update(
                    actor=self.actor, intake=intake, **{**current, **data}
                )
            intake = _activation(self, intake, active)
        return _intake_answer(self, intake)

    @extend_schema(
        responses={204: None},
        description="Deactivates the address (mail to it is refused; what it received stays). "
        "PATCH `is_active: true` brings it back.",
    )
    def delete(self, request, pk: int) -> Response:
        admin.intake_address_deactivate(actor=self.actor, intake=self.intake(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MailPolicyView(MailAPIView):
    serializer_class = s.MailPolicySerializer

    def get(self, request) -> Response:
        return Response(s.MailPolicySerializer(mail_policy_for(self.tenant)).data)

    @extend_schema(request=s.MailPolicySerializer, responses=s.MailPolicySerializer)
    def put(self, request) -> Response:
        data = _valid(s.MailPolicySerializer, request)
        policy = admin.mail_policy_set(actor=self.actor, **data)
        return Response(s.MailPolicySerializer(policy).data)


class InboundPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-received_at", "-id")


STATUS_PARAMETER = OpenApiParameter(
    "status", OpenApiTypes.STR, enum=InboundStatus.values, description="Only this status."
)


class InboundMailListView(MailAPIView):
    serializer_class = s.InboundMailSerializer
    pagination_class = InboundPagination

    @extend_schema(parameters=[STATUS_PARAMETER], responses=s.InboundMailSerializer(many=True))
    def get(self, request) -> Response:
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in InboundStatus.values:
            choices = ", ".join(InboundStatus.values)
            raise exceptions.ValidationError({"status": [f"Status must be one of {choices}."]})
        rows = inbound_for_settings(self.tenant, wanted)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.InboundMailSerializer(page, many=True).data)


class InboundMailRetryView(MailAPIView):
    serializer_class = s.InboundMailSerializer

    @extend_schema(request=None, responses={202: s.InboundMailSerializer})
    def post(self, request, pk: int) -> Response:
        inbound = inbound_for_settings(self.tenant).filter(pk=pk).first()
        if inbound is None:
            raise Http404("No such received message here.")
        inbound = admin.inbound_retry(actor=self.actor, inbound=inbound)
        again = inbound_for_settings(self.tenant).get(pk=inbound.pk)
        return Response(s.InboundMailSerializer(again).data, status=status.HTTP_202_ACCEPTED)
