"""The signed links the desk emails: invitations and sign-up confirmations.

Links are signed with the site's SECRET_KEY (django.core.signing) and carry their own send time,
so expiry needs no extra column. What makes them single-use is the database: an invitation row
is accepted once, and a sign-up link stops working once its membership exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tenancy.errors import LinkRefused
from tenancy.models import Invitation, Membership, Tenant

INVITATION_SALT = "tenancy.invitation"
SIGNUP_SALT = "tenancy.signup"


def _days(seconds: int) -> str:
    days = max(round(seconds / 86400), 1)
    return "1 day" if days == 1 else f"{days} days"


def _load(token: str, *, salt: str, max_age: int, what: str, renew: str) -> dict[str, Any]:
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkRefused(
            f"This {what} link has expired: links last {_days(max_age)}. {renew}"
        ) from exc
    except signing.BadSignature as exc:
        raise LinkRefused(
            f"This {what} link is not valid. Check that you opened the whole link from the "
            f"email. {renew}"
        ) from exc
    if not isinstance(data, dict):
        raise LinkRefused(f"This {what} link is not valid. {renew}")
    return data


def invitation_url(invitation: Invitation) -> str:
    token = signing.dumps({"i": invitation.pk, "k": invitation.key}, salt=INVITATION_SALT)
    path = reverse(
        "tenancy-invitation-accept",
        kwargs={"tenant_slug": invitation.tenant.slug, "token": token},
    )
    return settings.SITE_URL + path


def invitation_from_token(*, tenant: Tenant, token: str) -> Invitation:
    """The pending invitation a link names, or a LinkRefused that says what is wrong with it."""
    renew = f"Ask the administrator of {tenant.name} to invite you again."
    data = _load(
        token,
        salt=INVITATION_SALT,
        max_age=settings.INVITATION_MAX_AGE,
        what="invitation",
        renew=renew,
    )
    # Scoped to the tenant of the URL: another tenant's invitation is simply not found here.
    invitation = (
        Invitation.objects.for_tenant(tenant)
        .select_related("user", "tenant", "invited_by")
        .filter(pk=data.get("i"))
        .first()
    )
    if invitation is None:
        raise LinkRefused(f"This invitation link is not valid for {tenant.name}. {renew}")
    if invitation.accepted_at is not None:
        raise LinkRefused(
            "This invitation has already been used. Log in with your email and password; "
            "if you forgot the password, reset it from the log-in page."
        )
    if invitation.key != data.get("k"):
        raise LinkRefused(
            "This invitation link was replaced by a newer one. Use the link in the most recent "
            "invitation email."
        )
    if invitation.revoked_at is not None:
        raise LinkRefused(f"This invitation was withdrawn. {renew}")
    return invitation


@dataclass(frozen=True)
class SignupClaim:
    """What a sign-up confirmation link vouches for: this person controls this address."""

    tenant: Tenant
    email: str
    full_name: str


def signup_url(claim: SignupClaim) -> str:
    token = signing.dumps(
        {"t": claim.tenant.pk, "e": claim.email, "n": claim.full_name}, salt=SIGNUP_SALT
    )
    path = reverse(
        "tenancy-signup-confirm", kwargs={"tenant_slug": claim.tenant.slug, "token": token}
    )
    return settings.SITE_URL + path


def signup_from_token(*, tenant: Tenant, token: str) -> SignupClaim:
    renew = "Sign up again to get a new link."
    data = _load(
        token,
        salt=SIGNUP_SALT,
        max_age=settings.SIGNUP_CONFIRMATION_MAX_AGE,
        what="confirmation",
        renew=renew,
    )
    if data.get("t") != tenant.pk or not data.get("e"):
        raise LinkRefused(f"This confirmation link is not valid for {tenant.name}. {renew}")
    claim = SignupClaim(tenant=tenant, email=str(data["e"]), full_name=str(data.get("n", "")))
    signup_check_unused(claim)
    return claim


def signup_check_unused(claim: SignupClaim) -> None:
    """A confirmation link is spent once its address holds a membership of the tenant."""
    membership = (
        Membership.objects.for_tenant(claim.tenant).filter(user__email__iexact=claim.email).first()
    )
    if membership is None:
        return
    if not membership.is_active:
        raise LinkRefused(
            f"Your membership of {claim.tenant.name} was deactivated, and signing up again "
            "cannot restore it. Ask its service desk."
        )
    raise LinkRefused(
        f"This link has already been used: you have an account at {claim.tenant.name}. "
        "Log in with your email and password."
    )
