"""Integrations: create (the key shown once), change, rotate the key, disable; each audited."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.intake.rules import LEVELS, parse_mapping, parse_rules
from incidents.models import Category, Integration, IntegrationKind
from tenancy import rls
from tenancy.actors import Actor
from tenancy.apikeys import secret_hash
from tenancy.audit import audit_record
from tenancy.errors import InvalidInput

KEY_PREFIX = "sdi"
DEFAULT_RULES = (
    "severity=critical: high/high\nseverity=error: medium/high\n"
    "severity=warning: medium/medium\nseverity=info: low/low"
)
EDITABLE = (
    "name",
    "enabled",
    "rules",
    "default_impact",
    "default_urgency",
    "default_category",
    "resolve_on_resolved",
    "group_alerts",
    "mapping",
)


def key_hash(key: str) -> str:
    return secret_hash(key)


def _new_key() -> tuple[str, str]:
    token = secrets.token_hex(32)
    return token[:8], f"{KEY_PREFIX}{token}"


def integration_by_key(key: str) -> Integration | None:
    """The integration a monitoring tool names by its key, before the tenant is known."""
    key = (key or "").strip()
    if not key:
        return None
    with rls.bypass("an integration key names its tenant", routine=True):
        return (
            Integration.objects.select_related("tenant", "default_category")
            .filter(key_hash=key_hash(key), tenant__is_active=True)
            .first()
        )


def _clean(actor: Actor, kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """Values as the model keeps them; rules and mapping may come as text or as JSON."""
    clean = {k: v for k, v in values.items() if k in EDITABLE and v is not None}
    if "name" in clean:
        clean["name"] = str(clean["name"]).strip()[:100]
        if not clean["name"]:
            raise InvalidInput("Give the integration a name, e.g. “Prometheus prod”.", field="name")
    if isinstance(clean.get("rules"), str):
        clean["rules"] = parse_rules(clean["rules"])
    elif "rules" in clean:
        clean["rules"] = parse_rules(_rules_lines(clean["rules"]))
    for field in ("default_impact", "default_urgency"):
        if field in clean and clean[field] not in LEVELS:
            raise InvalidInput(f"{field} is high, medium or low.", field=field)
    if isinstance(clean.get("default_category"), str):
        clean["default_category"] = _category(actor, clean["default_category"])
    if isinstance(clean.get("mapping"), str):
        clean["mapping"] = parse_mapping(clean["mapping"]) if clean["mapping"].strip() else {}
    elif clean.get("mapping"):
        lines = "\n".join(f"{k} = {v}" for k, v in dict(clean["mapping"]).items())
        clean["mapping"] = parse_mapping(lines)
    if kind == IntegrationKind.WEBHOOK and "mapping" in clean and not clean["mapping"]:
        raise InvalidInput(
            "A generic webhook needs a mapping (dedup_key and title).", field="mapping"
        )
    return clean


def _rules_lines(rules: Any) -> str:
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        raise InvalidInput(
            "rules is a list of {label, value, impact, urgency, category}.", field="rules"
        )
    return "\n".join(
        f"{r.get('label')}={r.get('value')}: {r.get('impact')}/{r.get('urgency')}"
        + (f" {r['category']}" if r.get("category") else "")
        for r in rules
    )


def _category(actor: Actor, slug: str) -> Category | None:
    if not slug:
        return None
    category = Category.objects.for_tenant(actor.tenant).filter(slug=slug).first()
    if category is None:
        raise InvalidInput(f"No category {slug!r}.", field="default_category")
    return category


def _snapshot(integration: Integration) -> dict[str, Any]:
    return {
        "name": integration.name,
        "kind": integration.kind,
        "enabled": integration.enabled,
        "rules": integration.rules,
        "default_impact": integration.default_impact,
        "default_urgency": integration.default_urgency,
        "default_category": getattr(integration.default_category, "slug", None),
        "resolve_on_resolved": integration.resolve_on_resolved,
        "group_alerts": integration.group_alerts,
        "mapping": integration.mapping,
    }


@transaction.atomic
def integration_create(*, actor: Actor, kind: str, **values: Any) -> tuple[Integration, str]:
    """The integration and its key, which is never shown again."""
    if kind not in IntegrationKind.values:
        raise InvalidInput(
            f"kind is one of {', '.join(IntegrationKind.values)} (got {kind!r}).", field="kind"
        )
    values.setdefault("rules", "" if kind == IntegrationKind.WEBHOOK else DEFAULT_RULES)
    if kind == IntegrationKind.WEBHOOK:
        values.setdefault("mapping", "")
    clean = _clean(actor, kind, {"name": values.pop("name", ""), **values})
    prefix, key = _new_key()
    integration = Integration.objects.create(
        tenant=actor.tenant, kind=kind, key_prefix=prefix, key_hash=key_hash(key), **clean
    )
    audit_record(
        actor=actor, action="integration.created", target=integration,
        target_label=integration.name, after=_snapshot(integration),
    )  # fmt: skip
    return integration, key


def _locked(actor: Actor, integration_id: int) -> Integration:
    return (
        Integration.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("default_category")
        .get(pk=integration_id)
    )


@transaction.atomic
def integration_change(*, actor: Actor, integration_id: int, **values: Any) -> Integration:
    integration = _locked(actor, integration_id)
    before = _snapshot(integration)
    clean = _clean(actor, integration.kind, values)
    for name, value in clean.items():
        setattr(integration, name, value)
    integration.save()
    after = _snapshot(integration)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        action = (
            "integration.disabled"
            if changed == {"enabled"} and not integration.enabled
            else "integration.changed"
        )
        audit_record(
            actor=actor, action=action, target=integration, target_label=integration.name,
            before={k: before[k] for k in changed}, after={k: after[k] for k in changed},
        )  # fmt: skip
    return integration


@transaction.atomic
def integration_rotate_key(*, actor: Actor, integration_id: int) -> tuple[Integration, str]:
    """A new key; the old one stops working at once."""
    integration = _locked(actor, integration_id)
    prefix, key = _new_key()
    integration.key_prefix, integration.key_hash = prefix, key_hash(key)
    integration.key_rotated_at = timezone.now()
    integration.save(update_fields=["key_prefix", "key_hash", "key_rotated_at"])
    audit_record(
        actor=actor, action="integration.key_rotated", target=integration,
        target_label=integration.name,
    )  # fmt: skip
    return integration, key
