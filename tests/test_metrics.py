"""/metrics for Prometheus (issue 16): served only with METRICS_TOKEN set and to requests bearing
it; queue depths, sweep, notify and delivery lag, the outbox backlog and task failures, read at
scrape time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.signals import task_failure
from django.utils import timezone

from escalation.models import Notification
from escalation.tasks import deliver_notification, sweep_clocks
from tests.escalation.worker import broker_for_test, celery_app_publishing_to, drop_broker

pytestmark = pytest.mark.django_db
TOKEN = "s3cret-metrics-token"


def _scrape(client) -> dict[str, float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for line in response.content.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_metrics_are_not_served_without_a_token_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


def test_metrics_ask_for_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    assert response.status_code == 401 and "Bearer" in response["WWW-Authenticate"]
    assert TOKEN not in response.content.decode()


def test_metrics_are_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # Prometheus scrapes the process over plain HTTP
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_the_outbox_backlog_and_how_late_each_channel_is(people, client, settings):
    settings.METRICS_TOKEN = TOKEN
    late = timezone.now() - timedelta(minutes=5)
    for channel in ("email", "email", "webhook"):
        Notification.objects.create(
            tenant=people.acme, kind="t", address="x", subject="s", body="b",
            channel=channel, next_attempt_at=late,
        )  # fmt: skip
    samples = _scrape(client)
    assert samples['servicedesk_outbox_backlog{channel="email",status="pending"}'] == 2
    assert samples['servicedesk_outbox_backlog{channel="webhook",status="pending"}'] == 1
    assert samples['servicedesk_outbox_backlog{channel="inapp",status="pending"}'] == 0
    assert 295 < samples['servicedesk_delivery_lag_seconds{channel="email"}'] < 400
    assert samples['servicedesk_delivery_lag_seconds{channel="inapp"}'] == 0
    assert samples["servicedesk_sla_sweep_lag_seconds"] == 0
    assert samples["servicedesk_sla_notify_lag_seconds"] == 0
    assert samples["servicedesk_sla_sweep_stalled"] == 0


def test_queue_depths_per_queue(people, client, settings, tmp_path):
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_TASK_ALWAYS_EAGER = False
    broker = broker_for_test(tmp_path)
    try:
        with celery_app_publishing_to(broker):
            for n in range(3):
                deliver_notification.delay(n)
            sweep_clocks.delay()
            samples = _scrape(client)
    finally:
        drop_broker(broker)
    assert samples['servicedesk_queue_depth{queue="delivery"}'] == 3
    assert samples['servicedesk_queue_depth{queue="timers"}'] == 1
    assert samples['servicedesk_queue_depth{queue="celery"}'] == 0


@pytest.mark.redis
def test_task_failures_are_counted_across_processes(client, settings):
    if not settings.REDIS_URL:
        pytest.skip("task failures are counted in Redis")
    settings.METRICS_TOKEN = TOKEN
    name = 'servicedesk_task_failures_total{task="escalation.sweep_clocks"}'
    before = _scrape(client).get(name, 0)
    task_failure.send(sender=sweep_clocks, task_id="x", exception=RuntimeError("boom"))
    assert _scrape(client)[name] == before + 1
