"""A person's own account: the sessions they are signed in with, and their password.

Sessions are Django's (the database session store); each signed-in one also has a UserSession
row with what the person needs to recognise it (browser, address, when). Ending a session
deletes it from the store, so the next request from that browser carries a key the store no
longer knows and is logged out, whatever page it asks for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from tenancy.account.selectors import live_keys, user_sessions
from tenancy.errors import InvalidInput
from tenancy.models import User, UserSession
from tenancy.signin_audit import password_changed_record, sessions_ended_record
from tenancy.throttle import client_address

# The session data key holding when this session's row was last brought up to date (epoch
# seconds): it spares every request a write (tenancy/account/middleware.py).
SEEN_KEY = "_account_seen"
SEEN_EVERY_SECONDS = 60


def _store(session_key: str | None = None) -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]


def session_seen(*, user: User, request: HttpRequest) -> None:
    """Record (or refresh) the request's session for its person: at log-in, and then at most
    once a minute (the middleware). A session signed in before the desk kept rows gets one
    here, on its first request."""
    key = request.session.session_key
    if not key:
        return
    now = timezone.now()
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "address": client_address(request),
            "user_agent": _user_agent(request),
            "last_seen_at": now,
        },
        create_defaults={
            "user": user,
            "address": client_address(request),
            "user_agent": _user_agent(request),
            "created_at": now,
            "last_seen_at": now,
        },
    )
    request.session[SEEN_KEY] = int(now.timestamp())


def session_forget(*, session_key: str | None) -> None:
    """The session ended by itself (a log-out): its row goes too."""
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def _end(rows: list[UserSession]) -> int:
    """Delete the sessions from the store and their rows; how many were still live."""
    keys = [row.session_key for row in rows]
    live = live_keys(keys)
    store = _store()
    for key in keys:
        store.delete(key)
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(live)


def session_end(*, user: User, request: HttpRequest, session_id: int) -> int:
    """End one of the person's other sessions (their own current one is a log-out). A session
    that is not theirs, or already gone, is refused as not found."""
    current = request.session.session_key
    row = user_sessions(user).exclude(session_key=current).filter(pk=session_id).first()
    if row is None:
        raise InvalidInput("That session has already ended.", field="session")
    with transaction.atomic():
        ended = _end([row])
        sessions_ended_record(user=user, request=request, action="session.ended", count=ended)
    return ended


def sessions_end_others(*, user: User, request: HttpRequest) -> int:
    """Sign out everywhere else: every session of the person but this one."""
    with transaction.atomic():
        ended = _end_others(user, request.session.session_key)
        sessions_ended_record(
            user=user, request=request, action="session.ended_others", count=ended
        )
    return ended


def _end_others(user: User, keep: str | None) -> int:
    return _end(list(user_sessions(user).exclude(session_key=keep)))


def password_change(*, user: User, request: HttpRequest, old: str, new: str) -> int:
    """Change the person's password; every other session of theirs ends (Django's session
    hash would refuse them at their next request anyway; deleting them now also takes them
    off the list), this one stays. Returns how many other sessions ended."""
    if not user.check_password(old):
        raise InvalidInput(
            "That is not your current password. Type it again.", field="old_password"
        )
    validate_password(new, user)  # ValidationError: the form shows each reason
    with transaction.atomic():
        old_key = request.session.session_key
        user.set_password(new)
        user.save(update_fields=["password"])
        update_session_auth_hash(request, user)  # cycles this session's key
        new_key = request.session.session_key
        UserSession.objects.filter(session_key=old_key).update(session_key=new_key)
        ended = _end_others(user, new_key)
        password_changed_record(user=user, request=request, how="changed on their account page")
    return ended


def sessions_forget_expired() -> int:
    """Housekeeping (hourly, tenancy.prune_sessions): Django's expired sessions, and the rows of
    sessions the store no longer holds (expired, or ended by a browser that never came back).
    Returns how many rows went."""
    _store().clear_expired()
    live = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.exclude(session_key__in=live).delete()[0]


def sessions_end_all(*, user: User) -> int:
    """Every session of the person ends (a reset password, an erased account)."""
    return _end(list(user_sessions(user)))
