"""Per-key rate limit: a fixed one-minute window counted atomically in Redis (INCR + EXPIRE
in one MULTI), shared by every web process. Without Redis, Django's cache stands in."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from tenancy.redis_client import redis_client, window_counts

WINDOW = 60


def _count(bucket: str) -> int:
    if redis_client() is None:
        cache.add(bucket, 0, WINDOW)
        return cache.incr(bucket)
    return window_counts({bucket: 1}, WINDOW)[bucket]


class KeyRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        limit = settings.API_RATE_LIMIT_PER_MINUTE
        if limit <= 0:
            return True
        actor = getattr(request, "actor", None)
        who = (
            f"key:{actor.api_key.prefix}"
            if actor is not None and actor.kind == "integration"
            else f"user:{getattr(request.user, 'pk', None) or self.get_ident(request)}"
        )
        now = time.time()
        window = int(now // WINDOW)
        self._wait = (window + 1) * WINDOW - now
        try:
            count = _count(f"ratelimit:{who}:{window}")
        except Exception:  # a rate limiter that is down must not take the API down
            return True
        return count <= limit

    def wait(self) -> float:
        return max(1.0, getattr(self, "_wait", WINDOW))
