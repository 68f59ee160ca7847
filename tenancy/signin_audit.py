"""Sign-ins, failed sign-ins, sign-outs, lockouts and password resets in the audit log (issue 17).

Django's own login and logout send user_logged_in, user_login_failed and user_logged_out, and
axes sends user_locked_out: hooks of the framework, not the desk's flow, so they are connected
here (tenancy/apps.py) rather than called. Someone signing in belongs to no one tenant, so each
event is recorded in every tenant where they are an active member, as that member. A failure for
an address that is nobody's is recorded nowhere: no tenant owns it (axes still counts it).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.http import HttpRequest

from tenancy.actors import Actor
from tenancy.audit import audit_record
from tenancy.models import User
from tenancy.selectors import each_membership
from tenancy.throttle import (
    API_KEY,
    PASSWORD_RESET,
    SECOND_FACTOR,
    client_address,
    lockouts_for,
    username_of,
)

# Names the throttle counts that are not accounts (tenancy/throttle.py): a bad API key or a
# reset request is not a sign-in; a wrong second-factor code is recorded by
# second_factor_failed_record, with what failed.
NOT_ACCOUNTS = (API_KEY, PASSWORD_RESET, SECOND_FACTOR)


def _address(request: HttpRequest | None) -> str | None:
    return client_address(request) if request is not None else None


def _account(name: str | None) -> User | None:
    """The person a typed name belongs to, or None (no name, a throttle name, nobody's)."""
    if not name or name.startswith(NOT_ACCOUNTS):
        return None
    return User.objects.filter(email__iexact=name).first()


def _record_in_each_tenant(
    user: User, action: str, *, address: str | None, as_member: bool = True, **fields: Any
) -> None:
    with transaction.atomic():
        for membership in each_membership(user):
            audit_record(
                actor=Actor.member(membership) if as_member else None,
                tenant=membership.tenant,
                action=action,
                target=user,
                address=address,
                **{"target_label": user.email, **fields},
            )


def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User):
        # The second step of signing in names the factor it took (tenancy/mfa/signin.py).
        factor = getattr(request, "desk_second_factor", "")
        after = {"second_factor": factor} if factor else {}
        _record_in_each_tenant(user, "signin.succeeded", address=_address(request), after=after)


def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User):  # None: nobody was signed in
        _record_in_each_tenant(user, "signout", address=_address(request))


def sign_in_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Recorded as someone not signed in (it may not be the member), with the email as typed."""
    if request is None:  # not a sign-in from the web (a shell): nobody to record
        return
    user = _account(username_of(request, credentials))  # lower case, as the throttle counts
    if user is None:
        return
    typed = str((credentials or {}).get("username") or user.email).strip()
    _record_in_each_tenant(
        user, "signin.failed", address=_address(request), as_member=False, target_label=typed
    )


def second_factor_failed_record(*, user: User, request: HttpRequest | None, what: str) -> None:
    """A right password, then a wrong code or a failed passkey: a failed sign-in, by someone not
    signed in (it may be someone who has the password but not the person's device)."""
    _record_in_each_tenant(
        user,
        "signin.failed",
        address=_address(request),
        as_member=False,
        after={"second_factor": what},
    )


def locked_out(sender: Any, request: HttpRequest, username: str | None, **kwargs: Any) -> None:
    """Axes says "locked out" both when a failure locks a name or an address and for each
    attempt refused during a lock. Only the first, for an account, is recorded: axes counts
    the failure of this request (sets axes_failures_since_start) only when it was not refused,
    so a counted failure after which the account is locked is the one that locked it."""
    if getattr(request, "axes_failures_since_start", None) is None:
        return  # refused during a lock: recorded as a failed sign-in only
    # Wrong second-factor codes pause that person's second step: a lockout of theirs too.
    username = username.removeprefix(SECOND_FACTOR) if username else None
    user = _account(username)
    if user is None or username is None:
        return
    until = lockouts_for([username]).get(username.lower())
    if until is None:
        return  # the address is locked, not the account
    address = _address(request)
    with transaction.atomic():
        for membership in each_membership(user):
            audit_record(
                actor=Actor.system(membership.tenant, "log-in throttle"),
                action="signin.locked",
                target=user,
                target_label=user.email,
                after={"log_ins_paused_until": f"{until.astimezone(UTC):%Y-%m-%d %H:%M} UTC"},
                address=address,
            )


def password_changed_record(*, user: User, request: HttpRequest | None, how: str) -> None:
    """Call inside the transaction that saved the new password. The password is never shown."""
    _record_in_each_tenant(
        user, "password.changed", address=_address(request), after={"password": how}
    )


def sessions_ended_record(
    *, user: User, request: HttpRequest | None, action: str, count: int
) -> None:
    """The person ended other sessions of theirs from their account page (session.ended: one,
    session.ended_others: every one but this). Call inside the transaction that ended them."""
    _record_in_each_tenant(user, action, address=_address(request), after={"sessions_ended": count})


def connect() -> None:
    """Connected once, from TenancyConfig.ready()."""
    user_logged_in.connect(signed_in, dispatch_uid="tenancy.audit.signed_in")
    user_logged_out.connect(signed_out, dispatch_uid="tenancy.audit.signed_out")
    user_login_failed.connect(sign_in_failed, dispatch_uid="tenancy.audit.sign_in_failed")
    user_locked_out.connect(locked_out, dispatch_uid="tenancy.audit.locked_out")
