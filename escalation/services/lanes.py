"""Delivery lanes: a tenant in a storm cannot hold up everyone else's alerts.

Delivery triggers wait in two queues that every delivery worker consumes: `delivery`, and
`delivery_bulk` for the tenants that have enqueued more than NOTIFICATION_BULK_AFTER rows in the
current minute. A worker takes from its queues in turn (Kombu's Redis transport rotates them
after each message; RabbitMQ feeds each consumer from both), so however long a storm's
backlog, another tenant's trigger waits behind at most one bulk task a free process, not behind
the whole backlog; and when no one else sends, the storm has every process.

A tenant's rows are counted in Redis per fixed minute (tenancy/redis_client.py), shared by
every process that writes rows. A Redis that is away puts every trigger in the `delivery` lane:
first in, first out, as before lanes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter

import redis
from django.conf import settings

from escalation.services.queues import DELIVERY, DELIVERY_BULK
from tenancy.redis_client import shared_key, window_counts

log = logging.getLogger(__name__)
WINDOW = 60


def delivery_lanes(rows_by_tenant: Counter[int]) -> dict[int, str]:
    """Count each tenant's rows into this minute; the lane of each tenant's triggers."""
    lanes = dict.fromkeys(rows_by_tenant, DELIVERY)
    limit = settings.NOTIFICATION_BULK_AFTER
    if limit <= 0 or not rows_by_tenant:
        return lanes
    minute = int(time.time() // WINDOW)
    keys = {shared_key("delivery-rows", t, minute): t for t in rows_by_tenant}
    try:
        counts = window_counts({k: rows_by_tenant[t] for k, t in keys.items()}, WINDOW)
    except redis.RedisError as exc:
        log.warning("delivery lanes unknown (%r): every trigger in the %s lane", exc, DELIVERY)
        return lanes
    for key, tenant_id in keys.items():
        if counts[key] > limit:
            lanes[tenant_id] = DELIVERY_BULK
    return lanes
