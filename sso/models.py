"""A tenant's OpenID Connect provider (issue 17, docs/sso.md): one configuration per tenant, and
the e-mail domains it claims, each claimed by one tenant only."""

from __future__ import annotations

from django.db import models

from tenancy.models import Membership, Role, TenantOwned

DEFAULT_SCOPES = "openid email profile"


class SsoConfig(TenantOwned):
    issuer_url = models.URLField(
        max_length=500,
        help_text="The provider's issuer, or its discovery document "
        "(…/.well-known/openid-configuration).",
    )
    client_id = models.CharField(max_length=255)
    # Kept to sign in with; never shown again, in a page or the API (write-only).
    client_secret = models.CharField(max_length=500, blank=True)
    scopes = models.CharField(max_length=255, default=DEFAULT_SCOPES)
    email_claim = models.CharField(max_length=100, default="email")
    groups_claim = models.CharField(max_length=100, default="groups")
    # {"IdP group": "role"}; a person in none of them gets default_role.
    group_roles = models.JSONField(default=dict, blank=True)
    default_role = models.CharField(max_length=16, choices=Role.choices, default=Role.REQUESTER)
    sync_roles = models.BooleanField(
        default=False, help_text="Roles follow the provider's groups at each sign-in."
    )
    require_sso = models.BooleanField(
        default=False, help_text="Members sign in only through the provider."
    )
    # The one admin who may still use a password when SSO is required (the provider may fail).
    break_glass = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="sso_config_one_per_tenant")]

    def __str__(self) -> str:
        return f"single sign-on ({self.issuer_url})"

    @property
    def discovery_url(self) -> str:
        url = self.issuer_url.rstrip("/")
        if url.endswith("/.well-known/openid-configuration"):
            return url
        return f"{url}/.well-known/openid-configuration"

    @property
    def domain_list(self) -> list[str]:
        return [d.domain for d in self.domains.all()]


class SsoDomain(TenantOwned):
    """An e-mail domain whose people this tenant's provider signs in. Unique across tenants: the
    log-in page picks the provider by the domain before it knows any tenant."""

    config = models.ForeignKey(SsoConfig, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["domain"], name="sso_domain_unique")]
        indexes = [models.Index(fields=["tenant", "domain"], name="sso_domain_tenant")]

    def __str__(self) -> str:
        return self.domain
