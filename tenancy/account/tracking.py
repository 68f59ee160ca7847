"""Keeping a person's session rows in step with Django's log-in and log-out: framework signals,
connected once from TenancyConfig.ready() (as tenancy/signin_audit.py's are)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.http import HttpRequest

from tenancy.account.services import session_forget, session_seen
from tenancy.models import User


def logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # login() has cycled the key by now: the row is the new session's.
    if isinstance(user, User) and request is not None and hasattr(request, "session"):
        session_seen(user=user, request=request)


def logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    # Sent before logout() flushes the session, so the key is still the one that ends.
    if request is not None and hasattr(request, "session"):
        session_forget(session_key=request.session.session_key)


def connect() -> None:
    user_logged_in.connect(logged_in, dispatch_uid="tenancy.account.logged_in")
    user_logged_out.connect(logged_out, dispatch_uid="tenancy.account.logged_out")
