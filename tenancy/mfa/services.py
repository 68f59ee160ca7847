"""Second factors (issue 17): authenticator apps (TOTP), passkeys (WebAuthn) and recovery codes.

The devices are django-otp's (TOTPDevice, StaticDevice) and django-otp-webauthn's
(WebAuthnCredential); this module is the desk's one way to change them, so every change is
recorded. A person's factors are theirs, not a tenant's: each change is recorded in the audit log
of every tenant where they are an active member, as with sign-ins (tenancy/signin_audit.py).

A "second factor" is a confirmed authenticator app or passkey. Recovery codes are the way back
when both are lost, never a factor of their own: removing the last factor removes them too.
"""

from __future__ import annotations

import logging
import secrets
from base64 import b32encode
from collections.abc import Iterable
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from tenancy.actors import Actor
from tenancy.audit import audit_record
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import STAFF_ROLES, Membership, Tenant, User
from tenancy.selectors import each_membership, person_memberships

# The members page's admin check and lock order, shared by every change to a member.
from tenancy.services import _lock_member, _require_admin

logger = logging.getLogger(__name__)

RECOVERY_CODE_COUNT = 10
# Without 0/o, 1/l/i: a code copied from paper is read back right.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10  # about 49 bits each; StaticToken holds 16 characters
AUTHENTICATOR = "authenticator"
PASSKEY = "passkey"
KINDS = {AUTHENTICATOR: "authenticator app", PASSKEY: "passkey"}


# --- What a person has ------------------------------------------------------------------------


def authenticators(user: User) -> QuerySet[TOTPDevice]:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")


def passkeys(user: User) -> QuerySet[WebAuthnCredential]:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk")


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def has_second_factor(user: User) -> bool:
    return authenticators(user).exists() or passkeys(user).exists()


def users_with_second_factor(user_ids: Iterable[int]) -> set[int]:
    """Which of these people have a second factor (the members page: two queries)."""
    ids = list(user_ids)
    found = set(
        TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True)
    )
    found |= set(
        WebAuthnCredential.objects.filter(user_id__in=ids, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    return found


def tenants_requiring(user: User) -> list[Tenant]:
    """The organisations that require a second factor of this person (they are staff there)."""
    return [
        m.tenant
        for m in person_memberships(user)
        if m.role in STAFF_ROLES and m.tenant.mfa_required
    ]


def factor_of(user: User, kind: str, device_id: int) -> Device:
    """One of the person's own factors; another person's, or none, is InvalidInput (a 404)."""
    model: Any = TOTPDevice if kind == AUTHENTICATOR else WebAuthnCredential
    device = model.objects.filter(user=user, confirmed=True, pk=device_id).first()
    if kind not in KINDS or device is None:
        raise InvalidInput("You have no such second factor.")
    return device


# --- Recording --------------------------------------------------------------------------------


def record_for_person(
    user: User,
    action: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    address: str | None = None,
) -> None:
    """Record a change to the person's own factors in each of their tenants, as that member.
    Call inside the transaction of the change."""
    for membership in each_membership(user):
        audit_record(
            actor=Actor.member(membership),
            action=action,
            target=user,
            target_label=user.email,
            before=before,
            after=after,
            address=address,
        )


# --- Authenticator apps -------------------------------------------------------------------------


def authenticator_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: the same secret on every visit until it is confirmed,
    so reloading the page does not break a code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def authenticator_secret(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def authenticator_qr(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG image (a data: URI: no inline style for the policy)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def normalised_code(text: str) -> str:
    """A code as typed, without spaces or dashes, in lower case."""
    return "".join(text.split()).replace("-", "").lower()


@transaction.atomic
def authenticator_confirm(*, user: User, code: str, name: str = "") -> TOTPDevice:
    """Turn the pending app on once it shows a right code: it was set up correctly."""
    device = (
        TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk")
    ).first()
    if device is None:
        raise InvalidInput("Start again: open the page to add an authenticator app.", field="code")
    if not normalised_code(code).isdigit() or not device.verify_token(normalised_code(code)):
        raise InvalidInput(
            "That code does not match. Type the 6 digits your app shows now for this desk; if it "
            "changed while you typed, use the new one. Check your device's clock if it keeps "
            "failing.",
            field="code",
        )
    device.name = (name or "").strip()[:64] or "Authenticator app"
    device.confirmed = True
    device.save(update_fields=["name", "confirmed"])
    record_for_person(user, "mfa.factor_added", after={"authenticator_app": device.name})
    return device


# --- Passkeys -----------------------------------------------------------------------------------


def passkey_recorded(*, user: User, device: WebAuthnCredential, name: str) -> None:
    """Name a passkey just registered and record it; inside the registration's transaction."""
    device.name = (name or "").strip()[:64] or "Passkey"
    device.save(update_fields=["name"])
    record_for_person(user, "mfa.factor_added", after={"passkey": device.name})


# --- Recovery codes -----------------------------------------------------------------------------


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def recovery_code_display(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """Ten new codes, replacing every earlier one. They are shown once, by the caller."""
    if not has_second_factor(user):
        raise NotAllowed("Add an authenticator app or a passkey first: recovery codes back one up.")
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    had = device.token_set.count()
    device.token_set.all().delete()
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    record_for_person(
        user,
        "mfa.recovery_codes_generated",
        before={"recovery_codes": f"{had} unused"} if had else {},
        after={"recovery_codes": f"{RECOVERY_CODE_COUNT} new"},
    )
    return [recovery_code_display(c) for c in codes]


# --- Removing -----------------------------------------------------------------------------------


def identity_confirmed(user: User, proof: str) -> bool:
    """The person's password, or a code of one of their authenticator apps: someone who only
    found an open session cannot take a factor away."""
    if proof and user.has_usable_password() and user.check_password(proof):
        return True
    code = normalised_code(proof)
    return code.isdigit() and any(d.verify_token(code) for d in authenticators(user))


@transaction.atomic
def factor_remove(*, user: User, kind: str, device_id: int, proof: str) -> str:
    """Remove one factor. The last one goes only when no organisation requires one of the
    person; with it go the recovery codes (nothing left for them to back up)."""
    device = factor_of(user, kind, device_id)
    if not identity_confirmed(user, proof):
        raise InvalidInput(
            "That is not your password, nor a current code of your authenticator app.",
            field="proof",
        )
    others = any(d != device for d in [*authenticators(user), *passkeys(user)])
    requiring = tenants_requiring(user)
    if not others and requiring:
        names = ", ".join(t.name for t in requiring)
        raise NotAllowed(
            f"{names} requires a second factor of you. Add another authenticator app or passkey "
            "before you remove this one."
        )
    label = device.name
    record_for_person(user, "mfa.factor_removed", before={KINDS[kind].replace(" ", "_"): label})
    device.delete()
    if not others:
        StaticDevice.objects.filter(user=user).delete()
    return label


@transaction.atomic
def factors_delete(*, user: User) -> list[str]:
    """Every factor and recovery code of the person (an admin's reset). Returns what went."""
    gone = [f"authenticator app “{d.name}”" for d in TOTPDevice.objects.filter(user=user)]
    gone += [f"passkey “{d.name}”" for d in WebAuthnCredential.objects.filter(user=user)]
    codes = recovery_codes_left(user)
    if codes:
        gone.append(f"{codes} recovery codes")
    TOTPDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return gone


# --- An admin's reset -------------------------------------------------------------------------


@transaction.atomic
def membership_mfa_reset(*, actor: Actor, membership: Membership) -> list[str]:
    """Remove a member's second factors and recovery codes (they lost their device): they sign
    in with their password alone, and enrol again where a second factor is required. A person's
    factors are theirs in every organisation, so each other one they belong to is told too.
    Returns what was removed."""
    _require_admin(actor)
    membership = _lock_member(actor, membership.pk)  # the members page's lock order
    user = membership.user
    gone = factors_delete(user=user)
    if not gone:
        return []
    audit_record(
        actor=actor,
        action="member.mfa_reset",
        target=membership,
        target_label=user.display_name,
        before={"second_factors": gone},
    )
    for other in each_membership(user, besides=actor.tenant):
        audit_record(
            actor=Actor.system(other.tenant, f"an admin of {actor.tenant.name}"),
            action="member.mfa_reset",
            target=other,
            target_label=user.display_name,
            before={"second_factors": gone},
            after={"reset_by": f"{actor.name} ({actor.tenant.name})"},
        )
    logger.warning(
        "second factors of %s reset by %s in %s", user.email, actor.name, actor.tenant.slug
    )
    return gone


def issuer() -> str:
    return settings.MFA_ISSUER
