"""Delivery limits (issue 16), in this process against local receivers: every attempt ends within
its deadline however slowly the receiver trickles; one endpoint has a bounded number of
deliveries in flight and backs off after an attempt that timed out; the relay never triggers a
row it triggered lately and never fills the delivery queue past its cap."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from escalation.models import EndpointHealth, Notification, WebhookEndpoint
from escalation.services import outbox
from escalation.services.queues import DELIVERY, queue_depth
from escalation.services.webhooks import EVENT_TYPES, webhook_endpoint_create
from escalation.tasks import deliver_notification, relay_notifications
from servicedesk.celery import app
from tests.escalation.worker import broker_for_test, celery_app_publishing_to, drop_broker
from tests.faults.sink import WebhookSink


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    with WebhookSink() as receiver:
        yield receiver


@pytest.fixture
def fast(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    settings.WEBHOOK_DEADLINE_SECONDS = 2
    settings.EMAIL_TIMEOUT = 1
    settings.EMAIL_DEADLINE_SECONDS = 2
    settings.WEBHOOK_ENDPOINT_BACKOFF_SECONDS = 30
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    return settings


def _endpoint(people, url: str) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=people.actor(people.ada), url=url, events=list(EVENT_TYPES)
    )


def _row(people, endpoint: WebhookEndpoint | None = None, **fields) -> Notification:
    values = {
        "tenant": people.acme,
        "kind": "ping",
        "address": endpoint.url if endpoint else "rita@acme.test",
        "subject": "Hello",
        "body": '{"event": "ping"}',
        "channel": "webhook" if endpoint else "email",
        "endpoint": endpoint,
        "max_attempts": 8,
    }
    return Notification.objects.create(**{**values, **fields})


def _reload(row: Notification) -> Notification:
    row.refresh_from_db()
    return row


# --- the deadline -----------------------------------------------------------------------------


def test_a_receiver_that_trickles_its_answer_is_cut_off_at_the_deadline(people, sink, fast):
    """A byte every 0.3 s never trips the 1 s socket timeout; the 2 s deadline ends it."""
    endpoint = _endpoint(people, sink.url("/trickle/0.3"))
    row = _row(people, endpoint)
    started = time.monotonic()
    assert outbox.notification_deliver(notification_id=row.id) == "pending"
    took = time.monotonic() - started
    assert 1.9 < took < 3.5, f"the attempt took {took:.1f}s against a 2s deadline"
    row = _reload(row)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "deadline of 2s" in row.last_error
    # The endpoint backs off: its next row waits without spending an attempt.
    health = EndpointHealth.objects.get(endpoint=endpoint)
    assert health.slow_failures == 1 and health.backoff_until > timezone.now()
    other = _row(people, endpoint)
    assert outbox.notification_deliver(notification_id=other.id) == outbox.DEFERRED
    assert _reload(other).attempts == 0
    assert other.id not in outbox.notifications_due()  # the relay leaves it until it is over


@pytest.mark.parametrize("path", ["/trickle-body/0.5", "/trickle-body/0.5?close=1"])
def test_a_receiver_that_answered_2xx_has_the_delivery_whatever_its_body_does(
    people, sink, fast, path
):
    endpoint = _endpoint(people, sink.url(path))
    row = _row(people, endpoint)
    started = time.monotonic()
    assert outbox.notification_deliver(notification_id=row.id) == "sent"
    assert time.monotonic() - started < 3  # a moment for the body, not its 40 s


def test_the_end_of_a_backoff_is_the_end_of_the_wait(people, sink, fast):
    endpoint = _endpoint(people, sink.url("/hook"))
    EndpointHealth.objects.create(
        endpoint=endpoint, slow_failures=3, backoff_until=timezone.now() - timedelta(seconds=1)
    )
    row = _row(people, endpoint)
    assert outbox.notification_deliver(notification_id=row.id) == "sent"
    health = EndpointHealth.objects.get(endpoint=endpoint)
    assert (health.slow_failures, health.backoff_until) == (0, None)  # answered in time


class TricklingSmtpServer:
    """Accepts connections and sends its greeting a byte every `every` seconds."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.listener.settimeout(0.2)
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            for byte in b"220 slow.example ESMTP at your service\r\n":
                if self.stopping.wait(self.every):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


def test_a_mail_server_that_trickles_is_cut_off_at_the_deadline(people, fast):
    server = TricklingSmtpServer(every=0.3)
    fast.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    fast.EMAIL_HOST, fast.EMAIL_PORT = "127.0.0.1", server.port
    try:
        row = _row(people)
        started = time.monotonic()
        assert outbox.notification_deliver(notification_id=row.id) == "pending"
        took = time.monotonic() - started
    finally:
        server.close()
    assert 1.9 < took < 3.5, f"the attempt took {took:.1f}s against a 2s deadline"
    assert "deadline of 2s" in _reload(row).last_error


# --- one endpoint's share of the workers --------------------------------------------------------


def test_an_endpoint_at_its_limit_leaves_the_row_to_the_delivery_in_flight(
    people, sink, fast, settings
):
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1
    endpoint = _endpoint(people, sink.url("/hook"))
    in_flight = _row(people, endpoint, status="sending", attempts=1, claimed_at=timezone.now())
    waiting = _row(people, endpoint)
    assert outbox.notification_deliver(notification_id=waiting.id) == outbox.BUSY
    assert (_reload(waiting).status, waiting.attempts) == ("pending", 0)
    # Another endpoint is not held up.
    elsewhere = _row(people, _endpoint(people, sink.url("/ok")))
    assert outbox.notification_deliver(notification_id=elsewhere.id) == "sent"
    # A stale claim (a dead worker's) does not count against the limit.
    stale = timezone.now() - outbox.stale_claim_age() - timedelta(seconds=1)
    Notification.objects.filter(id=in_flight.id).update(claimed_at=stale)
    assert outbox.notification_deliver(notification_id=waiting.id) == "sent"


def test_the_delivery_that_ends_sends_the_rows_its_endpoint_left_waiting(
    people, sink, fast, settings
):
    settings.WEBHOOK_ENDPOINT_CONCURRENCY = 1
    endpoint = _endpoint(people, sink.url("/hook"))
    rows = [_row(people, endpoint) for _ in range(4)]
    # One trigger: its delivery then takes the endpoint's other due rows, one after another.
    assert outbox.notification_deliver(notification_id=rows[0].id) == "sent"
    assert {_reload(row).status for row in rows} == {"sent"}
    assert set(sink.ids()) == {str(row.delivery_id) for row in rows}
    assert all(n == 1 for n in sink.ids().values())


def test_a_failed_row_is_not_tried_again_by_its_own_delivery(people, sink, fast, settings):
    settings.NOTIFICATION_BACKOFF_SECONDS = 0  # due again at once: only the chain could retry
    endpoint = _endpoint(people, sink.url("/status/503"))
    row = _row(people, endpoint)
    assert outbox.notification_deliver(notification_id=row.id) == "pending"
    assert sink.received_ids() == {str(row.delivery_id): 1}


# --- the relay --------------------------------------------------------------------------------


def test_a_row_the_relay_triggered_lately_is_not_triggered_again(people, settings):
    settings.NOTIFICATION_RELAY_AFTER_SECONDS = 120
    old = timezone.now() - timedelta(seconds=121)
    lost = _row(people, next_attempt_at=old)
    assert [row.id for row in outbox.notifications_relay(limit=10)] == [lost.id]
    assert outbox.notifications_relay(limit=10) == []  # its trigger may still be queued
    Notification.objects.filter(id=lost.id).update(triggered_at=old)
    assert [row.id for row in outbox.notifications_relay(limit=10)] == [lost.id]  # lost too


def test_a_claim_clears_the_relays_mark(people, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = _row(people, triggered_at=timezone.now())
    assert outbox.notification_deliver(notification_id=row.id) == "sent"
    assert _reload(row).triggered_at is None


@pytest.fixture
def broker(tmp_path, settings):
    """A queue of this test's own on Redis (or in folders), published to for real."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    found = broker_for_test(tmp_path)
    with celery_app_publishing_to(found):
        yield found
    drop_broker(found)


def test_the_relay_never_fills_the_delivery_queue_past_its_cap(people, settings, broker):
    settings.NOTIFICATION_RELAY_AFTER_SECONDS = 60
    settings.NOTIFICATION_RELAY_MAX_QUEUED = 10
    old = timezone.now() - timedelta(seconds=61)
    rows = [_row(people, next_attempt_at=old) for _ in range(25)]
    for _ in range(3):  # triggers still waiting: they may be these rows' own
        deliver_notification.delay(rows[0].id)
    assert relay_notifications() == 0  # not drained yet: triggering again would feed it
    drain = broker_messages(broker)
    drain(2)  # a worker takes two: one waits, at the low-water mark (a tenth of the cap)
    assert queue_depth(DELIVERY) == 1
    assert relay_notifications() == 9  # room for nine
    assert queue_depth(DELIVERY) == 10
    assert relay_notifications() == 0  # full: nothing added, nothing marked
    marked = Notification.objects.filter(id__in=[r.id for r in rows]).exclude(triggered_at=None)
    assert marked.count() == 9


def broker_messages(broker):
    """Take `n` messages off the delivery queue, as a worker would."""

    def take(n: int) -> None:
        with app.connection_for_read() as conn:
            queue = conn.SimpleQueue(DELIVERY)
            for _ in range(n):
                queue.get(timeout=5).ack()
            queue.close()

    return take
