"""The tenant's audit log: who changed what, when, and what it was before and after (issue 17).

Every change that is not on an incident (an incident has its own timeline) writes one record
through `audit_record`, inside the transaction of the change, so a change and its record land
or roll back together. Records are append-only: on PostgreSQL a trigger refuses UPDATE and
DELETE (migration tenancy 0006); the retention job alone may delete, having said so for its own
transaction (`prune_allowed`), and records that it did.

`before` and `after` hold the fields that changed, as plain values a person can read (names,
labels, numbers), never secrets: a key or a password is recorded as changed, not shown.
`changes_in_words` turns them into lines such as "Role: Agent → Manager".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from tenancy.actors import Actor
from tenancy.models import AuditRecord, Tenant

# What each action says, in words, after the actor's name ("Ada Admin changed a member's role").
# An action not listed reads as its own words ("member.role_changed": "member role changed").
ACTIONS: dict[str, str] = {
    "apikey.created": "created an API key",
    "apikey.revoked": "revoked an API key",
    "apikey.rotated": "rotated an API key's secret",
    "audit.pruned": "removed audit records past the retention period",
    "audit.retention_changed": "changed how long the audit log keeps records",
    "calendar.changed": "changed a business-hours calendar",
    "calendar.created": "created a business-hours calendar",
    "calendar.deleted": "deleted a business-hours calendar",
    "canned_response.changed": "changed a shared canned response",
    "canned_response.created": "created a shared canned response",
    "canned_response.deleted": "deleted a shared canned response",
    "category.changed": "changed a category",
    "category.created": "created a category",
    "category.deactivated": "deactivated a category",
    "category.reactivated": "reactivated a category",
    "dashboard.exported": "exported the dashboard's figures",
    "escalation_policy.changed": "changed an escalation policy",
    "escalation_policy.created": "created an escalation policy",
    "escalation_policy.deleted": "deleted an escalation policy",
    "group.changed": "changed a group",
    "group.created": "created a group",
    "import.failed": "import failed",
    "import.finished": "import finished",
    "import.started": "started an import",
    "intake_address.changed": "changed an email intake address",
    "intake_address.created": "created an email intake address",
    "intake_address.deactivated": "deactivated an email intake address",
    "intake_address.reactivated": "reactivated an email intake address",
    "integration.changed": "changed a monitoring integration",
    "integration.created": "created a monitoring integration",
    "integration.disabled": "disabled a monitoring integration",
    "integration.key_rotated": "rotated a monitoring integration's key",
    "invitation.accepted": "accepted an invitation",
    "invitation.resent": "sent an invitation again",
    "invitation.revoked": "revoked an invitation",
    "invitation.sent": "invited someone",
    "mail_policy.changed": "changed the policy for mail from unknown senders",
    "matrix.changed": "changed the priority matrix",
    "mfa.factor_added": "added a second factor",
    "mfa.factor_removed": "removed a second factor",
    "mfa.recovery_codes_generated": "generated new recovery codes",
    "member.deactivated": "deactivated a member",
    "member.lockout_lifted": "lifted a member's sign-in lock",
    "member.mfa_reset": "reset a member's second factors",
    "member.reactivated": "reactivated a member",
    "member.role_changed": "changed a member's role",
    "member.signed_up": "signed up",
    "oncall_layer.added": "added a layer to an on-call schedule",
    "oncall_layer.removed": "removed a layer from an on-call schedule",
    "oncall_override.added": "added an override to an on-call schedule",
    "oncall_override.removed": "removed an override from an on-call schedule",
    "oncall_schedule.changed": "changed an on-call schedule",
    "oncall_schedule.created": "created an on-call schedule",
    "oncall_schedule.deleted": "deleted an on-call schedule",
    "password.changed": "changed their password",
    "personal_data.erased": "erased a person's personal data",
    "personal_data.exported": "exported a person's personal data",
    "resolution_code.created": "created a resolution code",
    "resolution_code.deactivated": "deactivated a resolution code",
    "resolution_code.reactivated": "reactivated a resolution code",
    "resolution_code.renamed": "renamed a resolution code",
    "session.ended": "ended one of their other sessions",
    "session.ended_others": "signed out everywhere else",
    "signin.failed": "failed to sign in",
    "signin.locked": "was locked out after failed sign-ins",
    "signin.succeeded": "signed in",
    "signout": "signed out",
    "sla_policy.changed": "changed SLA targets",
    "sso.config_changed": "changed the single sign-on settings",
    "sso.config_created": "set up single sign-on",
    "sso.member_provisioned": "added a member at their first single sign-on",
    "sso.password_refused": "was refused a password sign-in: single sign-on is required",
    "sso.role_changed": "changed a member's role to follow the provider's groups",
    "sso.signin_failed": "failed to sign in through single sign-on",
    "sso.signin_succeeded": "signed in through single sign-on",
    "sla_policy.created": "created SLA targets",
    "tenant.mfa_required_changed": "changed whether staff must use a second factor",
    "tenant.settings_changed": "changed the organisation's settings",
    "webhook.changed": "changed a webhook",
    "webhook.created": "created a webhook",
    "webhook.deleted": "deleted a webhook",
    "webhook.disabled": "disabled a webhook",
    "webhook.enabled": "enabled a webhook",
    "webhook.secret_rotated": "rotated a webhook's signing secret",
}
EMPTY = "—"
PRUNE_SETTING = "desk.audit_prune"  # the trigger's exception for the retention job
# Days an admin may keep records: a month at least (an auditor's question comes late), ten years
# at most (the table is not an archive).
RETENTION_DAYS = (30, 3650)


def _plain(value: Any) -> Any:
    """A JSON value a reader can take in: model instances by their name, collections kept."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    target: models.Model | None = None,
    tenant: Tenant | None = None,
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    address: str | None = None,
) -> AuditRecord:
    """Record one change, in the caller's transaction. `actor` None: someone not signed in (a
    failed sign-in), whose tenant is then given."""
    owner = actor.tenant if actor is not None else tenant
    if owner is None:
        raise ValueError("An audit record needs its tenant.")
    label = target_label or (str(target) if target is not None else "")
    return AuditRecord.objects.create(
        tenant=owner,
        actor_kind=actor.kind if actor is not None else "anonymous",
        actor_user_id=actor.user_id if actor is not None else None,
        actor_name=(actor.name if actor is not None else "Someone not signed in")[:200],
        action=action,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=label[:200],
        before=_plain(dict(before or {})),
        after=_plain(dict(after or {})),
        address=address or None,
    )


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields whose value differs: a field only before was removed, only after was set."""
    names = [n for n in dict.fromkeys([*before, *after]) if before.get(n) != after.get(n)]
    return (
        {n: before[n] for n in names if n in before},
        {n: after[n] for n in names if n in after},
    )


def audit_change(
    *,
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    target_label: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    always: bool = False,
) -> AuditRecord | None:
    """Record the change, unless nothing changed (`always`: record it even so, for an act such
    as a deletion or an export, which is a change in itself)."""
    was, now = changed_fields(before or {}, after or {})
    if not (was or now or always):
        return None
    return audit_record(
        actor=actor, action=action, target=target, target_label=target_label, before=was, after=now
    )


def _word(value: Any) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_word(v) for v in value) or EMPTY
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_word(v)}" for k, v in value.items()) or EMPTY
    return str(value)


def _field(name: str) -> str:
    return name.replace("_", " ").capitalize()


def changes_in_words(record: AuditRecord) -> list[str]:
    """One line per field: "Role: Agent → Manager", "Name: Berlin office" (set),
    "Scopes: read, write → —" (cleared)."""
    lines = []
    for name in dict.fromkeys([*record.before, *record.after]):
        was, now = record.before.get(name), record.after.get(name)
        if name not in record.before:
            lines.append(f"{_field(name)}: {_word(now)}")
        elif name not in record.after:
            lines.append(f"{_field(name)}: {_word(was)} (removed)")
        elif was != now:
            lines.append(f"{_field(name)}: {_word(was)} → {_word(now)}")
    return lines


def action_in_words(action: str) -> str:
    return ACTIONS.get(action) or action.replace(".", " ").replace("_", " ")


@contextmanager
def prune_allowed() -> Iterator[None]:
    """Inside an atomic block: this transaction may delete audit records (the retention job)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
    yield


def audit_prune(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Delete the tenant's records older than its retention period, and record that it did (the
    one audited exception to the append-only rule). Returns how many went."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=tenant.audit_retention_days)
    with transaction.atomic(), prune_allowed():
        old = AuditRecord.objects.for_tenant(tenant).filter(at__lt=cutoff)
        deleted, _ = old.delete()
        if deleted:
            audit_record(
                actor=Actor.system(tenant, "audit retention"),
                action="audit.pruned",
                target_label="audit log",
                after={"records_removed": deleted, "older_than": cutoff.date().isoformat()},
            )
    return deleted
