"""An admin exports or erases one member's personal data in their tenant (docs/personal-data.md).
The apps' holders (tenancy/personal_data.py) find and change the rows; this module checks who
may, confirms, pseudonymises the account when nothing else needs it, and writes the one audit
record of each act."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_otp_webauthn.models import WebAuthnUserHandle

from tenancy.account.services import sessions_end_all
from tenancy.actors import Actor
from tenancy.audit import audit_record
from tenancy.errors import Conflict, InvalidInput, NotAllowed
from tenancy.mfa.services import factors_delete
from tenancy.models import (
    ApiKey,
    AuditRecord,
    Invitation,
    Membership,
    Role,
    User,
)
from tenancy.personal_data import HOLDERS, Held, Person, Pseudonym, declare, row_data
from tenancy.selectors import person_memberships

FORMAT = "servicedesk-personal-data/1"
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail reaches it
AUDIT_KEPT = (
    "The audit log is append-only (the database refuses changes): its records stay until the "
    "tenant's retention period removes them."
)


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin of this organisation can export or erase personal data.")


def _person(membership: Membership) -> Person:
    user = membership.user
    return Person(user=user, email=user.email, name=user.full_name)


def _audit_rows(tenant: Any, person: Person) -> list[dict[str, Any]]:
    """The tenant's records where the person acted, or was what was changed."""
    user_id, membership_ids = person.user.pk, _membership_ids(tenant, person)
    records = AuditRecord.objects.for_tenant(tenant).filter(actor_user_id=user_id) | (
        AuditRecord.objects.for_tenant(tenant).filter(target_type="user", target_id=str(user_id))
    )
    if membership_ids:
        records = records | AuditRecord.objects.for_tenant(tenant).filter(
            target_type="membership", target_id__in=membership_ids
        )
    return [row_data(record) for record in records.order_by("at", "pk")]


def _membership_ids(tenant: Any, person: Person) -> list[str]:
    ids = (
        Membership.objects.for_tenant(tenant).filter(user=person.user).values_list("pk", flat=True)
    )
    return [str(pk) for pk in ids]


def register_tenancy() -> None:
    """Tenancy's own holdings, registered from TenancyConfig.ready() like every app's."""
    declare(
        "tenancy",
        [
            Held(Membership, "user", "delete"),
            Held(Invitation, "user", "delete"),
            Held(Invitation, "invited_by", "detach"),
            Held(ApiKey, "created_by", "detach"),
        ],
        exporter=lambda tenant, person: {"tenancy.AuditRecord": _audit_rows(tenant, person)},
        kept={
            "tenancy.AuditRecord.actor_name": AUDIT_KEPT,
            "tenancy.AuditRecord.address": AUDIT_KEPT,
            "tenancy.User.email": "Pseudonymised with the account when no other membership "
            "needs it (person_erase).",
            "tenancy.User.full_name": "As the email.",
            "tenancy.UserSession.user": "A person's own sessions, no tenant's: all ended and "
            "deleted when the account is pseudonymised.",
            "tenancy.UserSession.address": "As the user.",
            **{
                f"{model}.user": "A person's own second factor, no tenant's: deleted with the "
                "account when it is pseudonymised."
                for model in (
                    "otp_totp.TOTPDevice",
                    "otp_static.StaticDevice",
                    "django_otp_webauthn.WebAuthnCredential",
                    "django_otp_webauthn.WebAuthnUserHandle",
                )
            },
        },
    )


def person_export(*, actor: Actor, membership: Membership) -> dict[str, Any]:
    """Everything the tenant holds about the member, as one JSON-able document."""
    _require_admin(actor)
    person = _person(membership)
    held = {app: holder.exporter(actor.tenant, person) for app, holder in HOLDERS.items()}
    held = {app: rows for app, rows in held.items() if rows}
    user = person.user
    document = {
        "format": FORMAT,
        "exported_at": timezone.now(),
        "organisation": {"slug": actor.tenant.slug, "name": actor.tenant.name},
        "person": {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "membership": row_data(membership),
        "held": held,
    }
    rows = sum(len(r) for kinds in held.values() for r in kinds.values())
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="personal_data.exported",
            target=user,
            target_label=user.email,
            after={"rows_exported": rows},
        )
    return document


def _check_erasable(actor: Actor, membership: Membership, confirm: str) -> None:
    _require_admin(actor)
    user = membership.user
    if user.pk == actor.user_id:
        raise NotAllowed("You cannot erase your own personal data. Ask another admin.")
    if membership.is_active:
        raise Conflict(
            f"Deactivate {user.display_name} first: their open work is handed back then, and "
            "only someone who has left is erased."
        )
    if confirm.strip().lower() != user.email.lower():
        raise InvalidInput(f"Type {user.email} exactly to confirm the erasure.", field="confirm")


def _pseudonymise_account(user: User, alias: Pseudonym) -> bool:
    """The account goes too when no other organisation has them as an active member."""
    # Their other organisations are beyond this request's tenant (tenancy/rls.py).
    if person_memberships(user):
        return False
    user.email, user.full_name, user.is_active = alias.email, alias.name, False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])
    sessions_end_all(user=user)
    factors_delete(user=user)
    WebAuthnUserHandle.objects.filter(user=user).delete()
    return True


@transaction.atomic
def person_erase(*, actor: Actor, membership: Membership, confirm: str) -> Pseudonym:
    """Pseudonymise the member everywhere in this tenant; their incidents stay, under the
    pseudonym. Refused for an active member, oneself, or a confirmation that is not their
    email. Returns the pseudonym they now go by."""
    membership = (
        Membership.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("user", "tenant")
        .get(pk=membership.pk)
    )
    _check_erasable(actor, membership, confirm)
    person = _person(membership)
    token = secrets.token_hex(4)
    alias = Pseudonym(name=f"Erased person {token}", email=f"erased-{token}@{ERASED_DOMAIN}")
    changed: dict[str, int] = {}
    for holder in HOLDERS.values():
        changed.update(holder.eraser(actor.tenant, person, alias))
    account = _pseudonymise_account(person.user, alias)
    audit_record(
        actor=actor,
        action="personal_data.erased",
        target=person.user,
        target_label=alias.name,  # the record must not keep what it erased
        after={
            "pseudonym": alias.name,
            "rows_changed": sum(changed.values()),
            "account": "pseudonymised, can no longer log in"
            if account
            else "kept: a member of another organisation",
        },
    )
    return alias
