"""Task failures counted across every worker process, for /metrics (servicedesk/metrics.py):
a hash in Redis (the broker's server), one field per task name, added to by the task_failure
signal (connected in servicedesk/celery.py). Without Redis (the file-system broker) nothing is
counted. A FLUSHALL starts the counts again, which Prometheus reads as a counter reset."""

from __future__ import annotations

import contextlib

import redis

from tenancy.redis_client import redis_client

KEY = "servicedesk:task_failures"


def count_failure(sender: object = None, **kwargs: object) -> None:
    """celery's task_failure: a task raised (its retries, if any, spent)."""
    client = redis_client()
    if client is None:
        return
    # The broker away: the failure is in the worker's log all the same.
    with contextlib.suppress(redis.RedisError):
        client.hincrby(KEY, getattr(sender, "name", None) or "unknown", 1)


def failures() -> dict[str, int] | None:
    """task name -> failures counted; None without Redis or when it does not answer."""
    client = redis_client()
    if client is None:
        return None
    try:
        raw = client.hgetall(KEY)
    except redis.RedisError:
        return None
    return {_text(name): int(count) for name, count in raw.items()}


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw
