"""Reads of a person's own account: their signed-in sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from tenancy.account.useragent import device_in_words
from tenancy.models import User, UserSession


@dataclass(frozen=True)
class SessionRow:
    pk: int
    device: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


def live_keys(keys: list[str]) -> set[str]:
    """Of these session keys, those Django's session store (the database backend, as
    servicedesk/settings.py uses) still holds and has not expired."""
    live = Session.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
    return set(live.values_list("session_key", flat=True))


def user_sessions(user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user).order_by("-last_seen_at", "-pk")


def sessions_for_user(*, user: User, current_key: str | None) -> list[SessionRow]:
    """The person's live sessions, this device's first, then the most recently active."""
    rows = list(user_sessions(user))
    live = live_keys([row.session_key for row in rows])
    shown = [
        SessionRow(
            pk=row.pk,
            device=device_in_words(row.user_agent),
            address=row.address or "unknown",
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            is_current=row.session_key == current_key,
        )
        for row in rows
        if row.session_key in live
    ]
    return sorted(shown, key=lambda row: not row.is_current)  # stable: keeps recent first
