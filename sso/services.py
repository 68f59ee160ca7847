"""Single sign-on's writes: the tenant's provider configuration, and what a sign-in through it
does (just-in-time provisioning, roles from the provider's groups), each audited."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from sso.models import SsoConfig, SsoDomain
from sso.provider import url_problem
from sso.selectors import email_domain, is_break_glass
from tenancy import rls
from tenancy.actors import Actor
from tenancy.audit import audit_change, audit_record
from tenancy.errors import InvalidInput, NotAllowed, Refusal
from tenancy.models import Membership, Role, User

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Addresses anyone can have: claiming one would let a tenant's provider vouch for strangers.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        *("gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com"),
        *("yahoo.com", "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com"),
        *("gmx.com", "gmx.de", "web.de", "mail.com", "yandex.com"),
    }
)
ROLE_RANK = [Role.REQUESTER, Role.AGENT, Role.MANAGER, Role.ADMIN]
SSO_ACTOR = "single sign-on"


@dataclass
class SsoSettings:
    """What the settings page and the API send: the whole configuration. `client_secret` None
    or "" keeps the stored one (it is never shown back)."""

    issuer_url: str
    client_id: str
    client_secret: str | None
    scopes: str
    email_claim: str
    groups_claim: str
    domains: list[str]
    group_roles: dict[str, str]
    default_role: str
    sync_roles: bool
    require_sso: bool
    break_glass: Membership | None
    enabled: bool


def _domains(domains: list[str]) -> list[str]:
    clean = []
    for raw in domains:
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise InvalidInput(f"{raw!r} is not an e-mail domain.", field="domains")
        if domain in PUBLIC_MAIL_DOMAINS:
            raise InvalidInput(
                f"{domain} is a public mail service: anyone can have an address there, so no "
                "organisation's single sign-on may claim it.",
                field="domains",
            )
        clean.append(domain)
    return list(dict.fromkeys(clean))


def _check(actor: Actor, data: SsoSettings, existing: SsoConfig | None) -> None:
    """Refuse a configuration that could not work, or would lock the tenant out."""
    problem = url_problem(data.issuer_url.strip(), "The issuer URL")
    if problem:
        raise InvalidInput(problem, field="issuer_url")
    if not data.client_id.strip():
        raise InvalidInput("Give the client id the provider issued to the desk.", field="client_id")
    if not data.client_secret and not (existing and existing.client_secret):
        raise InvalidInput("Give the client secret the provider issued.", field="client_secret")
    if "openid" not in data.scopes.split():
        raise InvalidInput("The scopes must include openid.", field="scopes")
    for name in ("email_claim", "groups_claim"):
        if not getattr(data, name).strip():
            raise InvalidInput("Name the claim.", field=name)
    for group, role in data.group_roles.items():
        # PostgreSQL's jsonb refuses NUL: such a name could never match a group anyway.
        if role not in Role.values or not str(group).strip() or "\x00" in str(group):
            raise InvalidInput(
                f"{group} → {role}: each line is a group, then one of {', '.join(Role.values)}.",
                field="group_roles",
            )
    if data.default_role not in Role.values:
        raise InvalidInput("Choose a role for people in none of the groups.", field="default_role")
    _check_break_glass(actor, data)


def _check_break_glass(actor: Actor, data: SsoSettings) -> None:
    member = data.break_glass
    if member is not None and (
        member.tenant_id != actor.tenant.pk or member.role != Role.ADMIN or not member.is_active
    ):
        raise InvalidInput("The break-glass account must be an active admin.", field="break_glass")
    if data.require_sso and member is None:
        raise InvalidInput(
            "Choose a break-glass admin before requiring single sign-on: if the provider "
            "fails, they can still sign in with a password and put things right.",
            field="break_glass",
        )
    if data.enabled and not data.domains:
        raise InvalidInput(
            "Claim at least one e-mail domain: the log-in page sends people to the provider "
            "by the domain of their address.",
            field="domains",
        )


def _words(config: SsoConfig | None) -> dict[str, Any]:
    if config is None:
        return {}
    return {
        "issuer": config.issuer_url,
        "client_id": config.client_id,
        "scopes": config.scopes,
        "email_claim": config.email_claim,
        "groups_claim": config.groups_claim,
        "domains": sorted(config.domain_list),
        "group_roles": [f"{g} → {r}" for g, r in sorted(config.group_roles.items())],
        "default_role": config.default_role,
        "roles_follow_groups": config.sync_roles,
        "sso_required": config.require_sso,
        "break_glass_admin": config.break_glass.user.email if config.break_glass else None,
        "enabled": config.enabled,
    }


@transaction.atomic
def sso_config_set(*, actor: Actor, data: SsoSettings) -> SsoConfig:
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin of this organisation can set up single sign-on.")
    data.domains = _domains(data.domains)
    existing = (
        SsoConfig.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("break_glass__user")
        .first()
    )
    _check(actor, data, existing)
    before = _words(existing)
    config = existing or SsoConfig(tenant=actor.tenant)
    secret_changed = bool(data.client_secret) and data.client_secret != config.client_secret
    for name in ("issuer_url", "client_id", "scopes", "email_claim", "groups_claim"):
        setattr(config, name, getattr(data, name).strip())
    if data.client_secret:
        config.client_secret = data.client_secret
    config.group_roles = {str(g).strip(): r for g, r in data.group_roles.items()}
    config.default_role = data.default_role
    config.sync_roles, config.require_sso = data.sync_roles, data.require_sso
    config.break_glass, config.enabled = data.break_glass, data.enabled
    config.save()
    _claim_domains(config, data.domains)
    after = _words(config)
    if secret_changed:  # recorded as changed, never shown
        before["client_secret"], after["client_secret"] = "(earlier secret)", "(new secret)"
    audit_change(
        actor=actor,
        action="sso.config_changed" if existing else "sso.config_created",
        target=config,
        target_label="single sign-on",
        before=before,
        after=after,
        always=existing is None,
    )
    return config


def _claim_domains(config: SsoConfig, domains: list[str]) -> None:
    # Deliberately across tenants: a domain is one organisation's (tenancy/rls.py).
    with rls.bypass("is this domain another organisation's?", routine=True):
        taken = list(
            SsoDomain.objects.filter(domain__in=domains)
            .exclude(tenant_id=config.tenant_id)
            .values_list("domain", flat=True)
        )
    for domain in taken:  # the other tenant is not named: its existence is its own business
        raise InvalidInput(
            f"{domain} is already claimed by another organisation's single sign-on. Ask the "
            "desk's operators if it is yours.",
            field="domains",
        )
    SsoDomain.objects.for_tenant(config.tenant).exclude(domain__in=domains).delete()
    have = set(SsoDomain.objects.for_tenant(config.tenant).values_list("domain", flat=True))
    try:
        with transaction.atomic():  # a claim racing ours fails here, with the words above
            SsoDomain.objects.bulk_create(
                [
                    SsoDomain(tenant=config.tenant, config=config, domain=d)
                    for d in domains
                    if d not in have
                ]
            )
    except IntegrityError:
        raise InvalidInput(
            "One of these domains was just claimed by another organisation's single sign-on.",
            field="domains",
        ) from None
    config.__dict__.pop("_prefetched_objects_cache", None)


# --- Signing in ---------------------------------------------------------------------------------


def groups_of(config: SsoConfig, claims: dict[str, Any]) -> list[str]:
    groups = claims.get(config.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        return []
    return [str(g).replace("\x00", "")[:200] for g in groups[:100]]  # kept in the audit log


def role_for(config: SsoConfig, groups: list[str]) -> str:
    """The highest role any of the person's groups gives; the default role for none."""
    roles = [config.group_roles[g] for g in groups if g in config.group_roles]
    if not roles:
        return config.default_role
    return max(roles, key=lambda r: ROLE_RANK.index(Role(r)))


def email_of(config: SsoConfig, claims: dict[str, Any]) -> str:
    """The address the provider vouches for, which must be in a domain the tenant claims:
    otherwise one tenant's provider could sign in anybody's account."""
    email = str(claims.get(config.email_claim) or "").strip().lower()
    try:
        validate_email(email)
    except Exception:
        raise Refusal(
            f"The provider sent no e-mail address in the claim {config.email_claim!r}."
        ) from None
    if claims.get("email_verified") is False:
        raise Refusal(f"The provider says {email} is not verified.")
    if email_domain(email) not in config.domain_list:
        raise Refusal(
            f"The provider vouched for {email}, outside the domains this organisation's single "
            "sign-on claims."
        )
    return email


def _system(config: SsoConfig) -> Actor:
    return Actor.system(config.tenant, SSO_ACTOR)


def _user(config: SsoConfig, email: str, claims: dict[str, Any]) -> User:
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if user is None:
        name = str(claims.get("name") or "").replace("\x00", "").strip()[:150]
        return User.objects.create_user(email, password=None, full_name=name)
    if not user.is_active:
        raise Refusal(f"The account {email} has been deactivated in the desk.")
    if user.is_staff or user.is_superuser:
        raise Refusal("A platform operator's account never signs in through a tenant's provider.")
    return user


def _member(config: SsoConfig, user: User, role: str, groups: list[str]) -> Membership:
    membership = (
        Membership.objects.for_tenant(config.tenant).select_for_update().filter(user=user).first()
    )
    if membership is not None:
        if not membership.is_active:
            raise Refusal(f"{user.email} has been deactivated in this organisation's desk.")
        return membership
    with rls.person_scope(user.pk):  # their other organisations, if any (tenancy/rls.py)
        elsewhere = Membership.objects.filter(user=user).exclude(tenant=config.tenant).exists()
    if elsewhere:
        # Their account belongs to another organisation too, which trusts its own sign-in.
        raise Refusal(
            f"{user.email} already has an account in the desk through another organisation; "
            "ask your admin to invite it."
        )
    membership = Membership.objects.create(tenant=config.tenant, user=user, role=role)
    audit_record(
        actor=_system(config),
        action="sso.member_provisioned",
        target=user,
        target_label=user.email,
        after={"role": Role(role).label, "groups": groups},
    )
    return membership


def _follow_groups(config: SsoConfig, membership: Membership, role: str, groups: list[str]) -> None:
    if not config.sync_roles or membership.role == role:
        return
    if is_break_glass(config, membership.user):
        return  # the way back in when the provider is wrong keeps its role
    if membership.role == Role.ADMIN:
        admins = Membership.objects.for_tenant(config.tenant).filter(
            role=Role.ADMIN, is_active=True
        )
        if not admins.exclude(pk=membership.pk).exists():
            return  # never the last admin: the tenant would have nobody to put it right
    before = Role(membership.role).label
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=_system(config),
        action="sso.role_changed",
        target=membership.user,
        target_label=membership.user.email,
        before={"role": before},
        after={"role": Role(role).label, "groups": groups},
    )


@transaction.atomic
def sso_sign_in(*, config: SsoConfig, claims: dict[str, Any], address: str | None) -> Membership:
    """The member the provider's claims name: created at the first sign-in, their role following
    the groups when the tenant says so. Refusal (in words) for anyone who may not come in."""
    email = email_of(config, claims)
    groups = groups_of(config, claims)
    role = role_for(config, groups)
    user = _user(config, email, claims)
    membership = _member(config, user, role, groups)
    _follow_groups(config, membership, role, groups)
    audit_record(
        actor=Actor.member(membership),
        action="sso.signin_succeeded",
        target=user,
        target_label=user.email,
        after={"provider": config.issuer_url, "groups": groups},
        address=address,
    )
    return membership


def sso_sign_in_failed(
    *, config: SsoConfig, reason: str, email: str = "", address: str | None
) -> None:
    """A refused or broken sign-in, recorded as someone not signed in, with the reason."""
    _refusal_record(config, "sso.signin_failed", reason, email or "unknown person", address)


def sso_password_refused(*, config: SsoConfig, user: User, address: str | None) -> None:
    reason = "this organisation requires single sign-on"
    _refusal_record(config, "sso.password_refused", reason, user.email, address, target=user)


def _refusal_record(
    config: SsoConfig, action: str, reason: str, label: str, address: str | None, target=None
) -> None:
    # The log-in page has no tenant yet: the record is written in the provider's
    # (tenancy/rls.py), by someone not signed in.
    with rls.tenant_scope(config.tenant_id), transaction.atomic():
        audit_record(
            actor=None,
            tenant=config.tenant,
            action=action,
            target=target,
            target_label=label,
            after={"reason": reason},
            address=address,
        )
