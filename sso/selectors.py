"""Reads of single sign-on: the provider for an e-mail, and who must use it."""

from __future__ import annotations

from sso.models import SsoConfig, SsoDomain
from tenancy import rls
from tenancy.models import Role, Tenant, User
from tenancy.selectors import memberships_for_user


def email_domain(email: str) -> str:
    return email.strip().rsplit("@", 1)[-1].lower() if "@" in email else ""


def sso_config_for_tenant(tenant: Tenant) -> SsoConfig | None:
    return (
        SsoConfig.objects.for_tenant(tenant)
        .select_related("tenant", "break_glass__user")
        .prefetch_related("domains")
        .first()
    )


def sso_config_for_email(email: str) -> SsoConfig | None:
    """The enabled provider that claims the address's domain. The log-in page asks before it
    knows any tenant: domains are unique across tenants, so the answer is one or none."""
    domain = email_domain(email)
    if not domain or "\x00" in domain:  # PostgreSQL refuses NUL: such a domain is nobody's
        return None
    # Across tenants by nature (tenancy/rls.py): which organisation, if any, owns the domain.
    with rls.bypass("the log-in page: which organisation's provider claims a domain", routine=True):
        claim = (
            SsoDomain.objects.filter(domain=domain, config__enabled=True, tenant__is_active=True)
            .select_related("config__tenant", "config__break_glass")
            .prefetch_related("config__domains")
            .first()
        )
    return claim.config if claim is not None else None


def is_break_glass(config: SsoConfig, user: User) -> bool:
    """The tenant's break-glass admin, still an active admin there."""
    member = config.break_glass
    return (
        member is not None
        and member.user_id == user.pk
        and member.is_active
        and member.role == Role.ADMIN
    )


def sso_required_for(user: User) -> SsoConfig | None:
    """A tenant of this person that signs its members in only through its provider, unless they
    are its break-glass admin; None when a password may be used."""
    # Before any tenant is chosen: the person's own organisations (tenancy/rls.py).
    with rls.bypass("the log-in page: must this person use single sign-on?", routine=True):
        tenant_ids = [m.tenant_id for m in memberships_for_user(user)]
        configs = list(
            SsoConfig.objects.filter(tenant_id__in=tenant_ids, enabled=True, require_sso=True)
            .select_related("tenant", "break_glass")
            .prefetch_related("domains")  # read by the refusal's words, outside this bypass
        )
    for config in configs:
        if not is_break_glass(config, user):
            return config
    return None
