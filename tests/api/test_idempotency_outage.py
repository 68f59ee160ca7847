"""An Idempotency-Key whose work never committed is free again at once: the key's record commits
with the work (tenancy/api/idempotency.py), so a request whose database connection dies mid-work
leaves nothing behind, and its retry does the work, once. A repeat while the first is still
running gets 409 without waiting for it.

The report is held mid-work by a real lock: a settings change of the tenant in flight (its
exclusive configuration lock, tenancy/config_stamp.py), which every report waits for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from incidents.models import Incident
from servicedesk.outage import RETRY_AFTER_SECONDS
from tenancy.config_stamp import config_lock
from tenancy.models import IdempotencyRecord
from tests.escalation.worker import wait_until

pytestmark = pytest.mark.postgres

WAITING_REPORT = (
    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND query LIKE '%%pg_advisory_xact_lock_shared%%' AND pid <> pg_backend_pid()"
)


@contextmanager
def settings_change_in_flight(tenant_id: int) -> Iterator[None]:
    """An admin's change of the tenant's configuration, holding its lock until the block ends."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                config_lock(tenant_id)
                holding.set()
                done.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10), "the change never took its lock"
    try:
        yield
    finally:
        done.set()
        thread.join(30)


def _waiting_reports() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(WAITING_REPORT)
        return [row[0] for row in cursor.fetchall()]


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _report_in_thread(secret: str, key: str, answers: list) -> threading.Thread:
    def send() -> None:
        try:
            answers.append(
                _client(secret).post(
                    "/api/v1/incidents/",
                    {"title": "Core switch down"},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY=key,
                )
            )
        finally:
            connections.close_all()

    thread = threading.Thread(target=send)
    thread.start()
    return thread


@contextmanager
def database_refusing_new_connections() -> Iterator[None]:
    """The test database takes no new connection inside the block, as when it is down: a
    request cannot clean up after itself on a fresh connection. Open ones stay open. (Said from
    the server's maintenance database: PostgreSQL will not lock out the database it is in.)"""
    params = connection.get_connection_params()
    name = connection.ops.quote_name(params.pop("dbname"))
    params.pop("cursor_factory", None)
    admin = psycopg2.connect(**params, dbname="postgres")
    admin.autocommit = True
    try:
        admin.cursor().execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
        try:
            yield
        finally:
            admin.cursor().execute(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
    finally:
        admin.close()


def test_a_report_whose_database_went_away_mid_work_is_a_503_and_its_retry_runs_at_once(
    transactional_db, people, make_key
):
    secret = make_key()
    answers: list = []
    with settings_change_in_flight(people.acme.pk):
        sender = _report_in_thread(secret, "outage-1", answers)
        wait_until(_waiting_reports, timeout=20, what="the report to wait mid-work")
        with database_refusing_new_connections():
            with connection.cursor() as cursor:  # and the report's own connection is cut
                cursor.execute("SELECT pg_terminate_backend(pid) FROM (" + WAITING_REPORT + ") w")
            sender.join(20)

    (failed,) = answers
    assert (failed.status_code, failed["Content-Type"]) == (503, "application/problem+json")
    assert failed["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert not IdempotencyRecord.objects.filter(key="outage-1").exists()

    retry = _client(secret).post(
        "/api/v1/incidents/",
        {"title": "Core switch down"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="outage-1",
    )
    assert retry.status_code == 201, retry.content
    again = _client(secret).post(
        "/api/v1/incidents/",
        {"title": "Core switch down"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="outage-1",
    )
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json()["number"] == retry.json()["number"]
    assert Incident.objects.count() == 1


def test_a_repeat_while_the_first_runs_is_409_at_once_then_replays_the_first_answer(
    transactional_db, people, make_key
):
    secret = make_key()
    answers: list = []
    with settings_change_in_flight(people.acme.pk):
        first = _report_in_thread(secret, "same", answers)
        wait_until(_waiting_reports, timeout=20, what="the first report to wait mid-work")
        started = time.monotonic()
        repeat = _client(secret).post(
            "/api/v1/incidents/",
            {"title": "Core switch down"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="same",
        )
        waited = time.monotonic() - started
    first.join(20)

    assert repeat.status_code == 409
    assert "still in progress" in repeat.json()["detail"]
    assert waited < 5  # told at once, not held behind the first
    (done,) = answers
    assert done.status_code == 201
    later = _client(secret).post(
        "/api/v1/incidents/",
        {"title": "Core switch down"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert (later.status_code, later["Idempotent-Replayed"]) == (201, "true")
    assert later.json() == done.json()
    assert Incident.objects.count() == 1
