"""The signed links the desk emails, and the one way every link page reads its token.

Links are signed with the site's SECRET_KEY (django.core.signing) and carry their own send time,
so expiry needs no extra column. What makes them single-use is the database: an invitation row
is accepted once, and a sign-up link stops working once its membership exists.

A link page needs no login, so it is a door for anyone who can guess a URL. `link_read` checks
the signature before anything is read for the link: a token that does not verify is a plain
404, the same answer as a page that does not exist, so a damaged or forged link tells nothing
about which tenants, incidents or invitations exist. Only a genuine link (its signature holds)
may say that it has expired or was used, and only once it is known to point at the URL's own
tenant and object (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from tenancy.errors import LinkRefused
from tenancy.models import Invitation, Membership, Tenant
from tenancy.selectors import tenant_public

INVITATION_SALT = "tenancy.invitation"
SIGNUP_SALT = "tenancy.signup"
# The one answer to a link that is not genuine or points elsewhere; the 404 page names nothing.
NOT_A_LINK = "No such page."


@dataclass(frozen=True)
class SignedLink:
    """A token whose signature holds: what it carries, and whether it is past its age."""

    data: dict[str, Any]
    expired: bool


def link_read(token: str, *, salt: str, max_age: int | None) -> SignedLink:
    """The payload of a genuine link, read before anything else; Http404 for any other token."""
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
        expired = False
    except signing.SignatureExpired:
        # Django checks the signature before the age, so the payload is ours: read it to check
        # where the link points before saying that it expired.
        data = signing.loads(token, salt=salt)
        expired = True
    except signing.BadSignature:
        raise Http404(NOT_A_LINK) from None
    if not isinstance(data, dict):
        raise Http404(NOT_A_LINK)
    return SignedLink(data, expired)


def link_tenant(slug: str, tenant_id: object) -> Tenant:
    """The active tenant a genuine link was made in, if it is the URL's; Http404 otherwise."""
    tenant = tenant_public(slug)
    if tenant.pk != tenant_id:
        raise Http404(NOT_A_LINK)
    return link_page_in(tenant)


def link_page_in(tenant: Tenant) -> Tenant:
    """Show the link's page in its tenant's time zone: no membership, so no middleware did."""
    timezone.activate(tenant.time_zone)
    return tenant


def link_expired(what: str, max_age: int, renew: str) -> LinkRefused:
    days = max(round(max_age / 86400), 1)
    span = "1 day" if days == 1 else f"{days} days"
    return LinkRefused(f"This {what} link has expired: links last {span}. {renew}")


def invitation_url(invitation: Invitation) -> str:
    token = signing.dumps({"i": invitation.pk, "k": invitation.key}, salt=INVITATION_SALT)
    path = reverse(
        "tenancy-invitation-accept",
        kwargs={"tenant_slug": invitation.tenant.slug, "token": token},
    )
    return settings.SITE_URL + path


def invitation_from_token(*, tenant_slug: str, token: str) -> Invitation:
    """The pending invitation a genuine link names in the URL's tenant (else Http404), or a
    LinkRefused that says why this genuine link no longer works."""
    link = link_read(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    invitation_id = link.data.get("i")
    if not isinstance(invitation_id, int):
        raise Http404(NOT_A_LINK)
    invitation = (
        Invitation.objects.select_related("user", "tenant", "invited_by")
        .filter(pk=invitation_id, tenant__slug=tenant_slug, tenant__is_active=True)
        .first()
    )
    if invitation is None:
        raise Http404(NOT_A_LINK)
    tenant = link_page_in(invitation.tenant)
    renew = f"Ask the administrator of {tenant.name} to invite you again."
    if link.expired:
        raise link_expired("invitation", settings.INVITATION_MAX_AGE, renew)
    if invitation.accepted_at is not None:
        raise LinkRefused(
            "This invitation has already been used. Log in with your email and password; "
            "if you forgot the password, reset it from the log-in page."
        )
    if invitation.key != link.data.get("k"):
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


def signup_from_token(*, tenant_slug: str, token: str) -> SignupClaim:
    """What a genuine confirmation link for the URL's tenant vouches for (else Http404), or a
    LinkRefused that says why it no longer works."""
    link = link_read(token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_CONFIRMATION_MAX_AGE)
    if not link.data.get("e"):
        raise Http404(NOT_A_LINK)
    tenant = link_tenant(tenant_slug, link.data.get("t"))
    if link.expired:
        renew = "Sign up again to get a new link."
        raise link_expired("confirmation", settings.SIGNUP_CONFIRMATION_MAX_AGE, renew)
    data = link.data
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
