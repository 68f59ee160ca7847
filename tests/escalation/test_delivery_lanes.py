"""Delivery lanes (escalation/services/lanes.py), in this process against a queue of the test's
own: a tenant past NOTIFICATION_BULK_AFTER rows in a minute sends its triggers to the bulk lane
and everyone else's stay in `delivery`; with Redis away, or the setting 0, there is one lane.
A real worker taking both lanes beside a storm: tests/faults/test_storm_faults.py."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from escalation.services.outbox import notification_enqueue
from escalation.services.queues import DELIVERY, DELIVERY_BULK, queue_depths
from tenancy import redis_client
from tests.escalation.worker import broker_for_test, celery_app_publishing_to, drop_broker


@pytest.fixture
def broker(tmp_path, settings):
    if not settings.REDIS_URL:
        pytest.skip("the lanes count rows in Redis")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    left = 60 - time.time() % 60  # the counts are per minute: none ends during the test
    if left < 5:
        time.sleep(left + 0.1)
    # Counts an earlier test run left for the same tenant ids (a test database is made anew).
    client = redis_client.redis_client()
    assert client is not None
    for key in client.scan_iter(redis_client.shared_key("delivery-rows", "*")):
        client.delete(key)
    found = broker_for_test(tmp_path)
    with celery_app_publishing_to(found):
        yield found
    drop_broker(found)


def _enqueue(tenant, count: int, capture) -> None:
    """`count` email rows of the tenant written in one transaction, triggered at its commit."""
    with capture(execute=True):
        for n in range(count):
            notification_enqueue(
                tenant=tenant,
                kind="ping",
                address=f"p{n}@{tenant.slug}.test",
                subject="Hi",
                body="",
            )


def _lanes() -> tuple[int | None, int | None]:
    depths = queue_depths((DELIVERY, DELIVERY_BULK))
    return depths[DELIVERY], depths[DELIVERY_BULK]


def test_a_tenant_past_the_limit_in_a_minute_waits_in_the_bulk_lane_and_no_one_else(
    people, broker, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_BULK_AFTER = 5
    settings.NOTIFICATION_DELIVERY_BATCH = 20
    _enqueue(people.acme, 3, django_capture_on_commit_callbacks)
    assert _lanes() == (1, 0)  # within the limit: one batch in `delivery`
    _enqueue(people.acme, 4, django_capture_on_commit_callbacks)
    assert _lanes() == (1, 1)  # seven rows this minute: past five, the bulk lane
    _enqueue(people.acme, 1, django_capture_on_commit_callbacks)
    assert _lanes() == (1, 2)  # and there for the rest of the minute
    _enqueue(people.globex, 3, django_capture_on_commit_callbacks)
    assert _lanes() == (2, 2)  # another tenant's rows: the first lane


def test_with_the_limit_at_zero_every_trigger_waits_in_one_lane(
    people, broker, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_BULK_AFTER = 0
    for _ in range(3):
        _enqueue(people.acme, 50, django_capture_on_commit_callbacks)
    assert _lanes() == (9, 0)  # 150 rows, batches of 20 per transaction: 3 x 3


def test_with_redis_away_every_trigger_waits_in_the_first_lane(
    people, broker, settings, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    settings.NOTIFICATION_BULK_AFTER = 5
    away = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    monkeypatch.setattr(redis_client, "_client", away)
    with caplog.at_level(logging.WARNING, logger="escalation.services.lanes"):
        _enqueue(people.acme, 30, django_capture_on_commit_callbacks)
    assert _lanes() == (2, 0)
    assert "delivery lanes unknown" in caplog.text
    assert settings.REDIS_URL  # the broker itself was there all along
