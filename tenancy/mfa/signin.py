"""The second step of signing in (issue 17).

After a right password, a person with a second factor is not signed in yet: the session holds who
they are and where they were going, for MFA_PENDING_SECONDS. Only a right code or passkey calls
login(). Wrong codes are counted by the desk's throttle (tenancy/throttle.py) under
`second-factor:<email>`, so five of them pause that person's second step whatever the session or
address, and each is recorded as a failed sign-in in each of the person's tenants.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice

from tenancy.mfa.services import authenticators, normalised_code
from tenancy.models import STAFF_ROLES, Membership, User
from tenancy.signin_audit import second_factor_failed_record
from tenancy.throttle import (
    SECOND_FACTOR,
    attempt_allowed,
    attempt_record,
    locked_until,
    lockout_lift,
    until_text,
)

PENDING = "desk_mfa_pending"
AUTH_METHOD = "desk_auth_method"  # "password" here; "sso" after an identity provider's sign-in
VERIFIED = "desk_mfa_verified"
BACKEND = "django.contrib.auth.backends.ModelBackend"
# How the audit log's sign-in record names the factor used (tenancy/signin_audit.py).
FACTOR_WORDS = {
    "TOTPDevice": "authenticator app",
    "WebAuthnCredential": "passkey",
    "StaticDevice": "recovery code",
}


def pending_start(request: HttpRequest, user: User, next_url: str) -> None:
    request.session[PENDING] = {
        "user": user.pk,
        "next": next_url,
        "until": time.time() + settings.MFA_PENDING_SECONDS,
    }


def pending_user(request: HttpRequest) -> User | None:
    """Who passed the password step in this session and may still take the second one."""
    pending = request.session.get(PENDING)
    if not pending or pending.get("until", 0) < time.time():
        request.session.pop(PENDING, None)
        return None
    return User.objects.filter(pk=pending["user"], is_active=True).first()


def pending_next(request: HttpRequest) -> str:
    return (request.session.get(PENDING) or {}).get("next", "")


def throttle_name(user: User) -> str:
    return SECOND_FACTOR + user.email.lower()


def paused_until(request: HttpRequest, user: User) -> datetime | None:
    """When the person's second step may be tried again, or None when it may now."""
    name = throttle_name(user)
    if attempt_allowed(request, name):
        return None
    return locked_until(request, {"username": name})


def paused_message(until: datetime) -> str:
    return (
        "Too many wrong codes for this account, so its sign-in is paused until "
        f"{until_text(until)}. Try again then, or ask your desk's administrator to lift the pause."
    )


def code_device(user: User, code: str) -> Device | None:
    """The factor a code belongs to: an authenticator app's current code, or an unused
    recovery code (which is used up by this: django-otp deletes a static token it matches)."""
    typed = normalised_code(code)
    if not typed:
        return None
    # Locked, so two requests racing with one code cannot both use it.
    with transaction.atomic():
        if typed.isdigit() and len(typed) <= 8:
            devices: list[Device] = list(authenticators(user).select_for_update())
        else:
            devices = list(
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
            )
        return next((d for d in devices if d.verify_token(typed)), None)


def failure_count(request: HttpRequest, user: User, *, what: str) -> None:
    """Count a wrong code or a failed passkey under the person, and record it in their tenants."""
    attempt_record(request, throttle_name(user))
    second_factor_failed_record(user=user, request=request, what=what)


def finish(request: HttpRequest, user: User, device: Device, *, method: str = "password") -> None:
    """Sign the person in: the session says how, and that a second factor was used."""
    request.session.pop(PENDING, None)
    request.desk_second_factor = FACTOR_WORDS.get(type(device).__name__, "second factor")  # type: ignore[attr-defined]
    login(request, user, backend=BACKEND)
    otp_login(request, device)
    request.session[AUTH_METHOD] = method
    request.session[VERIFIED] = True
    lockout_lift(throttle_name(user))  # a right factor forgives the earlier slips


def requirement_unmet(request: HttpRequest, membership: Membership) -> bool:
    """Whether this session may not act for this membership yet: the tenant requires a second
    factor of its staff, and the session neither passed one nor came through the identity
    provider (whose own policy governs SSO sign-ins). Requesters are never asked."""
    if membership.role not in STAFF_ROLES or not membership.tenant.mfa_required:
        return False
    session = request.session
    return not (session.get(AUTH_METHOD) == "sso" or session.get(VERIFIED))
