"""Who else has an incident open on the desk, and who is typing on it (issue 14).

Kept in Django's cache alias "presence" (Redis when REDIS_URL is set, files under VAR_DIR
otherwise: servicedesk/settings.py), never in the database: each page polls every few seconds
and an entry lives PRESENCE_TTL seconds after its last poll, so a closed tab drops out by itself.

Per incident, one roster (user id -> when that user last wrote it) names who may be there, and
one entry per user says their name and whether they are typing. A user rewrites the roster only
to join it or every half TTL, so two pages polling at once seldom both write it; an entry lost
to such a race comes back at that user's next poll.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection

logger = logging.getLogger(__name__)

PRESENCE_TTL = 30  # seconds a page counts as open after its last poll
TYPING_SECONDS = 8  # "is typing" lasts this long after the last keystroke reported
TYPING_KINDS = {"reply": "typing a reply", "note": "typing an internal note"}


def _now() -> float:
    return time.time()


def presence_poll_seconds() -> int:
    """How often the incident page asks who else is there (DESK_PRESENCE_POLL_SECONDS)."""
    return getattr(settings, "DESK_PRESENCE_POLL_SECONDS", 5)


@dataclass(frozen=True)
class Present:
    user_id: int
    name: str
    typing: str  # "", or a key of TYPING_KINDS

    @property
    def doing(self) -> str:
        return TYPING_KINDS.get(self.typing, "viewing")


def _keys(tenant_id: int, incident_id: int) -> str:
    # The database's name too: two desks sharing one Redis (or parallel test databases) never
    # see each other's people, whose ids may be the same.
    return f"{connection.settings_dict['NAME']}:{tenant_id}:{incident_id}"


def presence_touch(
    *, tenant_id: int, incident_id: int, user_id: int, name: str, typing: str = ""
) -> None:
    """Say that the user has the incident open now (and is typing, if `typing` says what)."""
    cache, base, now = caches["presence"], _keys(tenant_id, incident_id), _now()
    mine = f"{base}:{user_id}"
    try:
        entry: dict[str, Any] = cache.get(mine) or {}
        if typing in TYPING_KINDS:
            entry.update(typing=typing, typing_until=now + TYPING_SECONDS)
        cache.set(mine, {**entry, "name": name, "seen": now}, PRESENCE_TTL)
        roster: dict[int, float] = cache.get(base) or {}
        if now - roster.get(user_id, 0) > PRESENCE_TTL / 2:
            fresh = {uid: at for uid, at in roster.items() if now - at < PRESENCE_TTL}
            cache.set(base, {**fresh, user_id: now}, PRESENCE_TTL)
    except Exception:  # presence is a courtesy: a cache that is down must not fail the page
        logger.warning("presence: the cache did not answer", exc_info=True)


def presence_others(*, tenant_id: int, incident_id: int, user_id: int) -> list[Present]:
    """Who else has the incident open, by name."""
    cache, base, now = caches["presence"], _keys(tenant_id, incident_id), _now()
    try:
        roster: dict[int, float] = cache.get(base) or {}
        others = [uid for uid in roster if uid != user_id]
        entries = cache.get_many([f"{base}:{uid}" for uid in others])
    except Exception:
        logger.warning("presence: the cache did not answer", exc_info=True)
        return []
    found = []
    for uid in others:
        entry = entries.get(f"{base}:{uid}")
        if entry is None or now - entry.get("seen", 0) >= PRESENCE_TTL:
            continue  # gone: the page has not polled for PRESENCE_TTL
        typing = entry.get("typing", "") if entry.get("typing_until", 0) > now else ""
        found.append(Present(user_id=uid, name=entry["name"], typing=typing))
    return sorted(found, key=lambda p: p.name)
