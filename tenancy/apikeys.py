"""API keys: created by a tenant admin (or the command), shown once, stored hashed. Creating and
revoking a key is recorded in the tenant's audit log (its name and scopes, never the secret)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenancy import rls
from tenancy.actors import Actor
from tenancy.audit import audit_record
from tenancy.errors import InvalidInput
from tenancy.models import ApiKey, ApiKeyScope, Membership, Tenant, User

KEY_PREFIX = "sdk"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def secret_hash(secret: str) -> str:
    """How the desk stores a random secret it shows once (API keys, integration keys)."""
    # Keys carry 256 bits of randomness, so a fast hash is enough: there is nothing to guess.
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_scopes(scopes: list[str]) -> str:
    allowed = {s.value for s in ApiKeyScope}
    scopes = [s.strip().lower() for s in scopes if s.strip()]
    unknown = sorted(set(scopes) - allowed)
    if unknown or not scopes:
        raise InvalidInput(
            f"Scopes are read, write and admin (got {', '.join(unknown) or 'none'}).",
            field="scopes",
        )
    order = [s.value for s in ApiKeyScope]
    return ",".join(sorted(set(scopes) | {"read"}, key=order.index))


def _acting(tenant: Tenant, actor: Actor | None, created_by: User | None) -> Actor:
    """Who the audit log names. Callers that know the actor pass it; otherwise the member who
    creates the key, or, with nobody named, an operator at the command line
    (manage.py create_api_key)."""
    if actor is not None:
        if actor.tenant.pk != tenant.pk:
            raise ValueError("The actor belongs to another tenant.")
        return actor
    if created_by is not None:
        membership = (
            Membership.objects.for_tenant(tenant)
            .select_related("user", "tenant")
            .filter(user=created_by)
            .first()
        )
        if membership is not None:
            return Actor.member(membership)
    return Actor.system(tenant, "operator (command line)")


@transaction.atomic
def api_key_create(
    *,
    tenant: Tenant,
    name: str,
    scopes: list[str],
    created_by: User | None = None,
    actor: Actor | None = None,
) -> tuple[ApiKey, str]:
    """Returns the key row and the full key, which is never shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the key a name that says which integration uses it.", field="name")
    actor = _acting(tenant, actor, created_by)
    prefix, secret = _new_secret()
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                tenant=tenant,
                name=name[:100],
                prefix=prefix,
                hashed_secret=secret_hash(secret),
                scopes=_clean_scopes(scopes),
                created_by=created_by if created_by is not None else actor.user,
            )
    except IntegrityError:
        raise InvalidInput(f"A key named {name!r} exists already.", field="name") from None
    audit_record(
        actor=actor,
        action="apikey.created",
        target=key,
        target_label=key.name,
        after={"name": key.name, "scopes": key.scopes.split(",")},
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def _new_secret() -> tuple[str, str]:
    return secrets.token_hex(5), secrets.token_urlsafe(32)


@transaction.atomic
def api_key_rotate(
    *, tenant: Tenant, key_id: int, actor: Actor | None = None
) -> tuple[ApiKey, str]:
    """A new secret for an active key, keeping its name and scopes: the old secret stops
    working at once. Returns the key row and the new full key, which is never shown again.
    A revoked key (ApiKey.DoesNotExist for another tenant's) cannot be rotated."""
    key = ApiKey.objects.for_tenant(tenant).select_for_update().get(pk=key_id)
    if key.revoked_at is not None:
        raise InvalidInput(f"Key “{key.name}” is revoked: create a new key instead.")
    old_prefix = key.prefix
    key.prefix, secret = _new_secret()
    key.hashed_secret = secret_hash(secret)
    key.last_used_at = None
    key.save(update_fields=["prefix", "hashed_secret", "last_used_at"])
    audit_record(
        actor=_acting(tenant, actor, None),
        action="apikey.rotated",
        target=key,
        target_label=key.name,
        before={"key_starts": f"{KEY_PREFIX}_{old_prefix}_…"},
        after={"key_starts": f"{KEY_PREFIX}_{key.prefix}_…", "secret": "rotated"},
    )
    return key, f"{KEY_PREFIX}_{key.prefix}_{secret}"


@transaction.atomic
def api_key_revoke(*, tenant: Tenant, key_id: int, actor: Actor | None = None) -> ApiKey:
    key = ApiKey.objects.for_tenant(tenant).select_for_update().get(pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=_acting(tenant, actor, None),
            action="apikey.revoked",
            target=key,
            target_label=key.name,
            before={"status": "active"},
            after={"status": "revoked"},
        )
    return key


def _parts(raw: str) -> list[str] | None:
    parts = raw.split("_", 2)
    return parts if len(parts) == 3 and parts[0] == KEY_PREFIX else None


def api_key_prefix(raw: str) -> str:
    """The public part of a presented key, which names it (failures are counted under it);
    '?' for something not shaped like a key at all."""
    parts = _parts(raw)
    return parts[1][:10] if parts else "?"


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key for a presented secret, or None. Records when it was last used."""
    parts = _parts(raw)
    if parts is None:
        return None
    # The key names its tenant: until it is found, no tenant is current.
    with rls.bypass("finding an API key by its prefix", routine=True):
        key = (
            ApiKey.objects.select_related("tenant")
            .filter(prefix=parts[1], revoked_at__isnull=True, tenant__is_active=True)
            .first()
        )
    if key is None or not secrets.compare_digest(key.hashed_secret, secret_hash(parts[2])):
        return None
    now = timezone.now()
    # Writing on every request would make each call a write; a minute's precision is plenty.
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        with rls.tenant_scope(key.tenant_id):
            ApiKey.objects.for_tenant(key.tenant_id).filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
