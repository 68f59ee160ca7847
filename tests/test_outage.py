"""A dependency that falls over during a request is answered 503 with Retry-After, never 500:
problem+json under /api/, a plain page elsewhere, drawn without the database; /readyz names the
dependency and answers within the connect timeout (servicedesk/outage.py, health.py).

The database outages are real: a desk process whose DATABASE_URL points at a port where nothing
listens, or at a server that takes the connection and never answers. Nothing is mocked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from servicedesk.outage import RETRY_AFTER_SECONDS
from tests.escalation.smtp_sink import free_port
from tests.escalation.worker import celery_app_publishing_to

BASE_DIR = Path(__file__).resolve().parent.parent
SESSION = "sessionid=" + "a1b2c3d4" * 4  # any well-formed key: the desk must look it up

# Runs in the desk's own process; prints what each GET answered, as JSON.
_ASK = r"""
import json, sys, time
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
answers = {}
for name, path, cookie in json.loads(sys.argv[1]):
    began = time.monotonic()
    response = client.get(path, HTTP_COOKIE=cookie) if cookie else client.get(path)
    answers[name] = {
        "status": response.status_code,
        "type": response.get("Content-Type", ""),
        "retry_after": response.get("Retry-After"),
        "body": response.content.decode(),
        "seconds": time.monotonic() - began,
    }
print(json.dumps(answers))
"""


def _ask_desk(database_url: str, requests: list[tuple[str, str, str]], tmp_path: Path, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    base.pop("SQLITE_PATH", None)
    base.update(
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        PYTHONPATH=str(BASE_DIR),
        DATABASE_URL=database_url,
        VAR_DIR=str(tmp_path / "var"),
        DEBUG="0",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", _ASK, json.dumps(requests)],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_with_the_database_down_pages_and_the_api_answer_503_and_readyz_names_it(tmp_path):
    dead = f"postgres://desk:secret@127.0.0.1:{free_port()}/desk"
    answers = _ask_desk(
        dead,
        [
            ("api", "/api/v1/incidents/", SESSION),  # raised inside DRF's view
            ("view", "/login/", SESSION),  # raised while the view's page is drawn
            ("middleware", "/t/acme/desk/", SESSION),  # raised in the tenant middleware
            ("readyz", "/readyz", ""),
        ],
        tmp_path,
    )

    api = answers["api"]
    assert (api["status"], api["type"]) == (503, "application/problem+json")
    assert api["retry_after"] == str(RETRY_AFTER_SECONDS)
    problem = json.loads(api["body"])
    assert (problem["status"], problem["dependency"]) == (503, "database")
    assert "Idempotency-Key" in problem["detail"]
    for page in (answers["view"], answers["middleware"]):
        assert page["status"] == 503, page["body"][:500]
        assert page["retry_after"] == str(RETRY_AFTER_SECONDS)
        assert page["type"].startswith("text/html")
        assert "The desk is briefly unavailable; try again in a moment" in page["body"]
    ready = answers["readyz"]
    body = json.loads(ready["body"])
    assert (ready["status"], body["status"], body["unavailable"]) == (
        503,
        "unavailable",
        ["database"],
    )
    assert body["checks"]["database"].startswith("error: OperationalError")
    assert body["checks"]["broker"] == "ok"
    assert body["flags"]["sla_audit"].startswith("unknown")


def test_readyz_answers_within_the_connect_timeout_when_the_database_never_answers(tmp_path):
    # A server that takes the connection and then says nothing (a hung host, a black hole):
    # without a connect timeout the probe would wait for ever.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    port = silent.getsockname()[1]
    try:
        answers = _ask_desk(
            f"postgres://desk:secret@127.0.0.1:{port}/desk",
            [("readyz", "/readyz", "")],
            tmp_path,
            DATABASE_CONNECT_TIMEOUT="2",
        )
    finally:
        silent.close()
    ready = answers["readyz"]
    assert ready["status"] == 503
    assert json.loads(ready["body"])["unavailable"] == ["database"]
    assert ready["seconds"] < 4.5  # the 2 s connect timeout, the broker probe, some slack


def test_a_broker_outage_inside_a_view_is_a_503_page_or_problem(client, db, settings):
    settings.ROOT_URLCONF = "tests.outage_urls"
    closed = {"url": f"redis://127.0.0.1:{free_port()}/0", "options": {}}
    with celery_app_publishing_to(closed):
        started = time.monotonic()
        page = client.get("/outage/publish/")
        api = client.post("/api/v1/outage/publish/", {}, content_type="application/json")
    assert time.monotonic() - started < 20
    assert page.status_code == 503
    assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "The desk is briefly unavailable" in page.content.decode()
    assert (api.status_code, api["Content-Type"]) == (503, "application/problem+json")
    assert api["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert api.json()["dependency"] == "broker"
