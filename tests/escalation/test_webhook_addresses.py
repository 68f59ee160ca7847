"""Webhooks go only to public addresses unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set: a tenant
admin must not be able to make the desk call its own network or a cloud metadata service."""

from __future__ import annotations

import socket
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from escalation.models import Notification, WebhookEndpoint
from escalation.services import outbox as services
from escalation.services.webhooks import webhook_endpoint_create, webhook_endpoint_update
from incidents import services as incidents
from tenancy.errors import InvalidInput
from tests.faults.sink import WebhookSink

PRIVATE_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:9000/hook",
    "http://[::ffff:10.0.0.1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
]


@pytest.fixture
def public_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False


def _create(people, url: str):
    return webhook_endpoint_create(
        actor=people.actor(people.ada), url=url, events=["incident.created"]
    )


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_an_endpoint_on_a_private_address_is_refused_with_the_reason(people, public_only, url):
    with pytest.raises(InvalidInput) as refused:
        _create(people, url)
    assert refused.value.field == "url"
    assert "only to public addresses" in refused.value.message


def test_a_public_address_is_accepted(people, public_only):
    endpoint = _create(people, "https://93.184.216.34/hook")
    assert endpoint.url == "https://93.184.216.34/hook"


def test_an_existing_endpoint_cannot_be_moved_to_a_private_address(people, public_only):
    endpoint = _create(people, "https://93.184.216.34/hook")
    with pytest.raises(InvalidInput):
        webhook_endpoint_update(
            actor=people.actor(people.ada),
            endpoint=endpoint,
            url="http://10.0.0.7/hook",
            events=["incident.created"],
        )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://93.184.216.34/hook"


def test_a_delivery_to_an_address_that_became_private_fails_for_good_and_sends_nothing(
    people, settings, django_capture_on_commit_callbacks
):
    with WebhookSink() as sink:
        _create(people, sink.url("/ok"))  # allowed while the tests' setting is on
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        with django_capture_on_commit_callbacks(execute=True):
            incidents.incident_report(actor=people.actor(people.rita), title="VPN drops")
        # The trigger ran on commit (eager here): a permanent failure, no retry.
        [row] = Notification.objects.for_tenant(people.acme).filter(channel="webhook")
        assert (row.status, row.attempts) == ("dead", 1)
        assert "only to public addresses" in row.last_error
        assert services.notification_deliver(notification_id=row.pk) != "sent"
        assert not sink.received_ids()  # not even a connection attempt


def test_a_delivery_connects_to_the_address_it_checked_never_to_a_second_answer(
    people, settings, monkeypatch
):
    """DNS rebinding: the name is public when the delivery checks it and 127.0.0.1 if anyone
    asks again. The delivery must connect to what it checked (unreachable here, so it is
    retried later), never ask again, and so never reach the desk's own machine."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        if host != "hooks.rebind.test":
            return real(host, port, *args, **kwargs)
        answers.append("93.184.216.34" if not answers else "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answers[-1], port))]

    with WebhookSink() as sink:
        WebhookEndpoint.objects.create(
            tenant=people.acme,
            url=f"http://hooks.rebind.test:{urlsplit(sink.url()).port}/hook",
            events=["incident.created"],
        )
        incidents.incident_report(actor=people.actor(people.rita), title="VPN drops")
        [row] = Notification.objects.for_tenant(people.acme).filter(channel="webhook")
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
        monkeypatch.setattr(socket, "getaddrinfo", rebinding)

        assert services.notification_deliver(notification_id=row.pk) != "sent"

        assert answers == ["93.184.216.34"]
        assert not sink.received_ids()
        row.refresh_from_db()
        assert row.status not in ("sent", "dead")  # unreachable: tried again later
        assert "hooks.rebind.test did not answer" in row.last_error


@contextmanager
def unanswering(ips: tuple[str, ...], port: int):
    """Listeners whose queue is full, so a connection to them hangs until its timeout: hosts
    that are down without saying so (all of 127.0.0.0/8 is this machine's loopback)."""
    listeners, waiting = [], []
    try:
        for ip in ips:
            listener = socket.socket()
            listener.bind((ip, port))
            listener.listen(0)
            listeners.append(listener)
            for _ in range(3):  # fill its queue; these are never accepted
                client = socket.socket()
                client.setblocking(False)
                client.connect_ex((ip, port))
                waiting.append(client)
        yield
    finally:
        for sock in waiting + listeners:
            sock.close()


def _many_addresses(monkeypatch, host: str, ips: list[str]) -> None:
    real = socket.getaddrinfo

    def resolve(name, port, *args, **kwargs):
        if name != host:
            return real(name, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, port)) for ip in ips
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def _timed_delivery(people, url: str) -> tuple[Notification, float]:
    WebhookEndpoint.objects.create(tenant=people.acme, url=url, events=["incident.created"])
    incidents.incident_report(actor=people.actor(people.rita), title="VPN drops")
    [row] = Notification.objects.for_tenant(people.acme).filter(channel="webhook")
    start = time.monotonic()
    services.notification_deliver(notification_id=row.pk)
    elapsed = time.monotonic() - start
    row.refresh_from_db()
    return row, elapsed


def test_a_host_whose_addresses_all_hang_holds_the_worker_for_one_timeout(
    people, settings, monkeypatch
):
    """Three addresses that never answer: the delivery gives up after the timeout once, not
    once per address (3 s here), and is tried again later."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
    with WebhookSink() as sink:  # only to find a free port
        port = urlsplit(sink.url()).port
    with unanswering(tuple(ips), port):
        _many_addresses(monkeypatch, "hooks.hanging.test", ips)
        row, elapsed = _timed_delivery(people, f"http://hooks.hanging.test:{port}/hook")
    assert elapsed < 2, f"the worker was held {elapsed:.1f} s"
    assert row.status not in ("sent", "dead")
    assert "hooks.hanging.test did not answer" in row.last_error


def test_a_hanging_first_address_leaves_time_for_the_next(people, settings, monkeypatch):
    settings.WEBHOOK_TIMEOUT_SECONDS = 5  # the first attempt gets half: 2.5 s, then the sink
    with WebhookSink() as sink:
        port = urlsplit(sink.url()).port
        with unanswering(("127.0.0.2",), port):
            _many_addresses(monkeypatch, "hooks.half.test", ["127.0.0.2", "127.0.0.1"])
            row, _ = _timed_delivery(people, f"http://hooks.half.test:{port}/hook")
        assert row.status == "sent"
        assert list(sink.received_ids()) == [str(row.delivery_id)]
