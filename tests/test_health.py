"""/healthz says the process is up; /readyz that the database and the broker answer."""

from __future__ import annotations

import time

import pytest

from tests.escalation.smtp_sink import free_port
from tests.escalation.worker import celery_app_publishing_to


def test_healthz_answers_while_the_process_runs(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_and_the_broker_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["checks"]) == ("ok", {"database": "ok", "broker": "ok"})
    assert "sla_audit" in body["flags"]  # the SLA auditor's health flag is shown, not gating


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_readyz_names_the_broker_when_it_is_down(client, db, scheme):
    # Nothing listens at the port: Redis, or RabbitMQ (CELERY_BROKER_URL=amqp://...).
    url = {"redis": "redis://127.0.0.1:{}/0", "amqp": "amqp://guest:guest@127.0.0.1:{}//"}
    closed = {"url": url[scheme].format(free_port()), "options": {}}
    started = time.monotonic()
    with celery_app_publishing_to(closed):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["unavailable"] == ["broker"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")
    assert time.monotonic() - started < 5  # a probe's timeout is short: answer quickly


def test_probes_are_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True  # probes of a container speak plain HTTP to the process
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/login/").status_code == 301
