"""The one Redis client of a process, for the counters and keys the desk shares between
processes (rate limits, delivery lanes, task failures, the relay's follow-up key). Short
timeouts: a Redis that is away must cost a caller a second, not a hung request."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

_client: redis.Redis | None = None


def redis_client() -> redis.Redis | None:
    """None without REDIS_URL (the file-system broker of a single box)."""
    global _client
    if _client is None and settings.REDIS_URL:
        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
    return _client


def shared_key(*parts: object) -> str:
    """A key of this deployment's database: desks (or test runs) sharing one Redis keep apart."""
    return ":".join(["servicedesk", connection.settings_dict["NAME"], *map(str, parts)])


def window_counts(counts: dict[str, int], window: int) -> dict[str, int]:
    """Add each amount to its key's count in the current fixed window of `window` seconds
    (the key expires with the window); the counts after adding, in one round trip. Raises
    redis.RedisError when Redis does not answer; callers decide what that means."""
    client = redis_client()
    if client is None:
        raise redis.ConnectionError("no REDIS_URL")
    pipe = client.pipeline(transaction=True)
    for key, amount in counts.items():
        pipe.incrby(key, amount)
        pipe.expire(key, window + 1, nx=True)
    replies = pipe.execute()
    return {key: int(replies[2 * i]) for i, key in enumerate(counts)}
