"""Celery triggers of the outbox and the SLA timers. The rows are the truth; a lost or repeated
message is harmless. Which queue each task waits in: escalation/services/queues.py."""

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis
from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from escalation.selectors.operations import sweep_deadman
from escalation.services import outbox
from escalation.services.alerts import alerts_notify_pending
from escalation.services.autoclose import incidents_auto_close
from escalation.services.queues import delivery_backlog
from escalation.services.sweep import clocks_audit, sweep_completed, sweep_due
from tenancy.redis_client import redis_client, shared_key

log = logging.getLogger(__name__)

# A delivery task ends its own attempts (a batch's session within its channel's deadline, and
# an endpoint's rows after it within the same session: delivery.py); Celery's limits are only a
# backstop, and in prefork only. They sit above what the code allows itself.
_DELIVERY_SOFT_LIMIT = 2 * outbox.delivery_deadline() + settings.NOTIFICATION_MARK_SENT_SECONDS + 10
_DELIVERY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 5,
    "soft_time_limit": _DELIVERY_SOFT_LIMIT,
    "time_limit": _DELIVERY_SOFT_LIMIT + 10,
}


@shared_task(name="escalation.deliver_notification", **_DELIVERY)
def deliver_notification(notification_id: int, endpoint_id: int | None = None) -> str:
    return outbox.notification_deliver(notification_id=notification_id, endpoint_id=endpoint_id)


@shared_task(name="escalation.deliver_notifications", **_DELIVERY)
def deliver_notifications(ids: list[int], endpoint_id: int | None = None) -> str:
    """A batch of rows triggered together; says how each ended (the logs show it)."""
    outcome = outbox.notifications_deliver(ids=ids, endpoint_id=endpoint_id)
    counts: dict[str, int] = {}
    for status in outcome.values():
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{n} {status!r}" for status, n in sorted(counts.items())) or "none"


# While rows are due a trigger, the relay looks again after this pause rather than a whole
# interval later (one follow-up at a time), so a backlog of rows without a trigger (Redis
# flushed, a worker killed) goes out at the workers' speed.
RELAY_FOLLOW_UP_SECONDS = 2


def _low_water(cap: int) -> int:
    """The relay adds triggers only once the delivery queue has drained to this: a row whose
    trigger still waits there looks just like one whose trigger was lost, and triggering it
    again would only feed the queue."""
    return max(1, cap // 10)


@shared_task(
    name="escalation.relay_notifications", autoretry_for=(OperationalError,), max_retries=3
)
def relay_notifications(follow_up: bool = False) -> int:
    if follow_up:
        _follow_up_done()
    outbox.notifications_bury_abandoned()
    cap = settings.NOTIFICATION_RELAY_MAX_QUEUED
    waiting = delivery_backlog() or 0
    ids = outbox.notifications_relay(limit=cap - waiting) if waiting <= _low_water(cap) else []
    # No expiry: each trigger either sends its row or finds it done, and the cap bounds them.
    # One message a row, so the cap on waiting messages is one on rows too.
    outbox.triggers_send(ids, size=1)
    if (ids or waiting > _low_water(cap)) and outbox.notifications_due(limit=1):
        _follow_up()
    elif not ids and waiting > _low_water(cap):
        log.info("relay: %s triggers wait in the delivery queue; none added", waiting)
    return len(ids)


def _follow_up_key() -> str:
    return shared_key("relay-follow-up")


def _follow_up() -> None:
    """One follow-up relay at a time (a key in Redis, expiring on its own): every beat's relay
    that finds work would otherwise start a chain of its own. Without Redis, beat's interval."""
    client = redis_client()
    if client is None or relay_notifications.app.conf.task_always_eager:
        return  # run in the caller (tests, debugging): no queue to drain
    with suppress(redis.RedisError):
        if client.set(_follow_up_key(), 1, nx=True, ex=RELAY_FOLLOW_UP_SECONDS + 30):
            relay_notifications.apply_async((True,), countdown=RELAY_FOLLOW_UP_SECONDS)


def _follow_up_done() -> None:
    client = redis_client()
    if client is not None:
        with suppress(redis.RedisError):
            client.delete(_follow_up_key())


# --- SLA clocks and escalation: triggers only; the rows hold every deadline -------------------
DB_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}
NOTIFY_BATCH = 100
# Notifiers at once: one fewer than the timers worker's processes (the Procfile's three), so a
# sweep always finds a process free however many notifier triggers a storm queues.
NOTIFIERS = 2


def _budget() -> float:
    """Seconds a timer task works before handing the rest to a fresh task of its own: short,
    so a timer waits for no other for long."""
    return min(settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.5, 10.0)


_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


@contextmanager
def _notifier_slot() -> Iterator[bool]:
    """One of NOTIFIERS slots, or False when all are taken (their holders drain everything):
    a key in Redis that expires on its own if its worker dies (not a database session lock,
    which PgBouncer's transaction pooling would lose). Without Redis, or with Redis away,
    every notifier may run: better late sweeps than unsent alerts."""
    client = redis_client()
    token, held = uuid.uuid4().hex, None
    keys = [shared_key("notifier", n) for n in range(NOTIFIERS)]
    try:
        if client is not None:
            ttl = int(_budget()) + 60
            held = next((k for k in keys if client.set(k, token, nx=True, ex=ttl)), None)
    except redis.RedisError:
        client = None
    try:
        yield client is None or held is not None
    finally:
        if client is not None and held is not None:
            with suppress(redis.RedisError):
                client.eval(_RELEASE, 1, held, token)


@shared_task(name="escalation.sweep_clocks", **DB_RETRY)
def sweep_clocks() -> int:
    started = time.monotonic()
    result = sweep_due(max_seconds=_budget())
    sweep_completed(result, seconds=time.monotonic() - started)
    if result.alerts:
        notify_alerts.delay()
    if result.unfinished:
        # More was due than one budget could sweep: carry on at once, not at the next beat.
        sweep_clocks.delay()
    return result.alerts


@shared_task(name="escalation.notify_alerts", **DB_RETRY)
def notify_alerts() -> int:
    """Notify every alert waiting, however many: batch after batch until one comes back short,
    handing over to a fresh task when the budget is spent. A trigger that finds NOTIFIERS
    already at work ends at once: they drain everything."""
    handled, stop_at = 0, time.monotonic() + _budget()
    with _notifier_slot() as mine:
        while mine:
            done = alerts_notify_pending(limit=NOTIFY_BATCH)
            handled += done
            if done < NOTIFY_BATCH:
                break
            if time.monotonic() > stop_at:
                notify_alerts.delay()
                break
    return handled


@shared_task(name="escalation.audit_clocks", **DB_RETRY)
def audit_clocks() -> int:
    sweep_deadman()  # logs at ERROR when the sweep has stalled
    return clocks_audit().overdue


@shared_task(name="escalation.auto_close", **DB_RETRY)
def auto_close() -> int:

    return incidents_auto_close()
