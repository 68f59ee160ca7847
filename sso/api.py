"""GET/PUT /api/v1/sso/ and POST /api/v1/sso/test/: the tenant's single sign-on as code, for
admin-scoped keys and admins' sessions, through the settings page's service. The client secret
is write-only: `client_secret_set` says whether one is stored, and a PUT without it keeps it."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from sso.models import DEFAULT_SCOPES, SsoConfig
from sso.provider import provider_check
from sso.selectors import sso_config_for_tenant
from sso.services import SsoSettings, sso_config_set
from tenancy.api.views import TenantAPIView
from tenancy.errors import InvalidInput
from tenancy.models import Membership, Role


class SsoConfigSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    issuer_url = serializers.URLField(max_length=500)
    client_id = serializers.CharField(max_length=255)
    client_secret = serializers.CharField(
        max_length=500,
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Write-only. Omitted or blank: the stored secret is kept.",
    )
    client_secret_set = serializers.BooleanField(read_only=True)
    scopes = serializers.CharField(max_length=255, default=DEFAULT_SCOPES)
    email_claim = serializers.CharField(max_length=100, default="email")
    groups_claim = serializers.CharField(max_length=100, default="groups")
    domains = serializers.ListField(child=serializers.CharField(max_length=253), default=list)
    group_roles = serializers.DictField(
        child=serializers.ChoiceField(choices=Role.choices), default=dict
    )
    default_role = serializers.ChoiceField(choices=Role.choices, default=Role.REQUESTER)
    sync_roles = serializers.BooleanField(default=False)
    require_sso = serializers.BooleanField(default=False)
    break_glass = serializers.EmailField(
        allow_null=True, required=False, default=None, help_text="The break-glass admin's e-mail."
    )


class SsoTestSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    provider = serializers.DictField()


def _body(config: SsoConfig) -> dict:
    return {
        "enabled": config.enabled,
        "issuer_url": config.issuer_url,
        "client_id": config.client_id,
        "client_secret_set": bool(config.client_secret),
        "scopes": config.scopes,
        "email_claim": config.email_claim,
        "groups_claim": config.groups_claim,
        "domains": sorted(config.domain_list),
        "group_roles": config.group_roles,
        "default_role": config.default_role,
        "sync_roles": config.sync_roles,
        "require_sso": config.require_sso,
        "break_glass": config.break_glass.user.email if config.break_glass else None,
    }


class SsoAPIView(TenantAPIView):
    admin_write = True
    admin_read = True  # the provider's set-up is an admin's business
    parser_classes = [JSONParser]
    serializer_class = SsoConfigSerializer

    def config(self) -> SsoConfig:
        config = sso_config_for_tenant(self.tenant)
        if config is None:
            raise Http404("Single sign-on is not set up here yet.")
        return config


class SsoConfigView(SsoAPIView):
    @extend_schema(operation_id="sso_read", responses=SsoConfigSerializer)
    def get(self, request) -> Response:
        return Response(SsoConfigSerializer(_body(self.config())).data)

    @extend_schema(
        operation_id="sso_set", request=SsoConfigSerializer, responses=SsoConfigSerializer
    )
    def put(self, request) -> Response:
        serializer = SsoConfigSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        settings = SsoSettings(
            **{k: v for k, v in data.items() if k not in ("break_glass", "client_secret")},
            client_secret=data.get("client_secret") or None,
            break_glass=self._break_glass(data.get("break_glass")),
        )
        sso_config_set(actor=self.actor, data=settings)
        return Response(SsoConfigSerializer(_body(self.config())).data)

    def _break_glass(self, email: str | None) -> Membership | None:
        if not email:
            return None
        member = (
            Membership.objects.for_tenant(self.tenant)
            .filter(user__email__iexact=email)
            .select_related("user")
            .first()
        )
        if member is None:
            raise InvalidInput(f"{email} is not a member here.", field="break_glass")
        return member


class SsoTestView(SsoAPIView):
    admin_read = True

    @extend_schema(operation_id="sso_test", request=None, responses=SsoTestSerializer)
    def post(self, request) -> Response:
        """Fetch the provider's discovery document and keys; `problems` says what is wrong."""
        report = provider_check(self.config())
        body = {"ok": report.ok, "problems": report.problems, "provider": report.facts}
        return Response(SsoTestSerializer(body).data)
