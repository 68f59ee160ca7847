"""The replica router's decisions, in process (tenancy/replicas.py). The replica's health answer
is set as a probe would leave it; tests/faults/test_replicas.py runs the same code against a
real streaming replica."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import OperationalError, transaction
from django.http import HttpResponse
from django.test import RequestFactory

from tenancy import replica_health, replicas
from tenancy.models import ApiKey

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def one_replica(settings):
    settings.REPLICA_ALIASES = ["replica1"]
    settings.REPLICA_MAX_LAG_SECONDS = 30
    settings.REPLICA_PIN_SECONDS = 5
    yield "replica1"
    replica_health._known.clear()


def _health(lag: float | None) -> None:
    error = "" if lag is not None else "OperationalError"
    replica_health._known["replica1"] = replica_health.Status(
        "replica1", time.monotonic(), lag=lag, error=error
    )


def _where(request) -> str:
    """The alias the view's reads went to."""
    seen: list[str] = []

    @replicas.replica_reads
    def view(request):
        seen.append(replicas.read_alias())
        return HttpResponse("ok")

    view(request)
    return seen[0]


def test_a_view_that_opted_in_reads_a_healthy_replica(one_replica):
    _health(0.2)
    assert _where(RequestFactory().get("/")) == "replica1"
    assert replicas.read_alias() == "default", "outside the view, reads go to the primary"


def test_a_replica_past_the_lag_bound_or_down_is_not_read(one_replica):
    _health(31)
    assert _where(RequestFactory().get("/")) == "default"
    _health(None)
    assert _where(RequestFactory().get("/")) == "default"


def test_only_get_and_head_read_a_replica(one_replica):
    _health(0)
    assert _where(RequestFactory().head("/")) == "replica1"
    assert _where(RequestFactory().post("/")) == "default"


def test_a_pinned_browser_reads_the_primary_until_the_pin_ends(one_replica):
    _health(0)
    request = RequestFactory().get("/")
    request.COOKIES[replicas.PIN_COOKIE] = str(time.time() + 5)
    assert _where(request) == "default"
    request.COOKIES[replicas.PIN_COOKIE] = str(time.time() - 1)
    assert _where(request) == "replica1"
    request.COOKIES[replicas.PIN_COOKIE] = "nonsense"
    assert _where(request) == "replica1"


@pytest.mark.django_db(transaction=True)  # not inside the test case's own transaction
def test_reads_go_to_the_primary_inside_its_transactions_and_after_a_write(one_replica):
    _health(0)
    seen: list[str] = []

    @replicas.replica_reads
    def view(request):
        seen.append(replicas.read_alias())
        with transaction.atomic():
            seen.append(replicas.read_alias())
        seen.append(replicas.read_alias())
        assert replicas.ReplicaRouter().db_for_write(ApiKey) == "default"
        seen.append(replicas.read_alias())
        return HttpResponse("ok")

    view(RequestFactory().get("/"))
    assert seen == ["replica1", "default", "replica1", "default"]


def test_a_replica_failing_mid_view_runs_the_view_again_on_the_primary(one_replica):
    _health(0)
    runs: list[str] = []

    @replicas.replica_reads
    def view(request):
        runs.append(replicas.read_alias())
        if replicas.read_alias() == "replica1":
            raise OperationalError("server closed the connection unexpectedly")
        return HttpResponse("from the primary")

    response = view(RequestFactory().get("/"))
    assert response.content == b"from the primary"
    assert runs == ["replica1", "default"]
    assert "replica1" not in replica_health._known, "the replica is asked again before reuse"


def test_a_failure_on_the_primary_still_fails(one_replica):
    @replicas.replica_reads
    def view(request):
        raise OperationalError("the primary is down")

    _health(None)  # no replica: the view runs once on the primary and its error stands
    with pytest.raises(OperationalError):
        view(RequestFactory().get("/"))


def _middleware(request, status: int) -> HttpResponse:
    return replicas.ReadYourWritesMiddleware(lambda r: HttpResponse(status=status))(request)


def test_a_browser_write_that_succeeded_pins_it_with_a_cookie(one_replica):
    response = _middleware(RequestFactory().post("/"), 302)
    cookie = response.cookies[replicas.PIN_COOKIE]
    assert cookie["max-age"] == 5 and cookie["httponly"]
    assert float(cookie.value) > time.time() + 4
    assert replicas.PIN_COOKIE not in _middleware(RequestFactory().post("/"), 400).cookies
    assert replicas.PIN_COOKIE not in _middleware(RequestFactory().get("/"), 200).cookies


def test_an_api_key_write_pins_the_key_in_the_shared_cache(one_replica):
    key = ApiKey(pk=987_654)  # what the API's authentication leaves on request.auth
    caches[replicas.PIN_CACHE].delete(f"replica-pin:key:{key.pk}")
    _health(0)
    reader = RequestFactory().get("/")
    reader.auth = key
    assert _where(reader) == "replica1"

    writer = RequestFactory().post("/")
    writer.auth = key
    response = _middleware(writer, 201)
    assert replicas.PIN_COOKIE not in response.cookies
    assert _where(reader) == "default", "the key's next read must see its write"
    caches[replicas.PIN_CACHE].delete(f"replica-pin:key:{key.pk}")


def _settings(**env: str) -> subprocess.CompletedProcess:
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    code = (
        "from servicedesk import settings as s; "
        "print(s.REPLICA_ALIASES, getattr(s, 'DATABASE_ROUTERS', [])); "
        "r = s.DATABASES.get('replica1'); "
        "print(r and (r['HOST'], r['PORT'], r['OPTIONS'], r['CONN_HEALTH_CHECKS'], "
        "r['DISABLE_SERVER_SIDE_CURSORS'], r['TEST'])); "
        "print('tenancy.replicas.ReadYourWritesMiddleware' in s.MIDDLEWARE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**base, "PYTHONPATH": str(BASE_DIR), "VAR_DIR": "/tmp/sd-replica-settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_replica_urls_become_aliases_with_the_primarys_options():
    done = _settings(
        DATABASE_URL="postgres://desk@primary:5432/desk",
        DATABASE_REPLICA_URLS="postgres://desk@standby1:5433/desk, postgres://desk@standby2/desk",
        DATABASE_CONNECT_TIMEOUT="4",
    )
    assert done.returncode == 0, done.stderr
    aliases, replica1, middleware = done.stdout.splitlines()
    assert aliases == "['replica1', 'replica2'] ['tenancy.replicas.ReplicaRouter']"
    assert replica1 == (
        "('standby1', 5433, {'connect_timeout': 4}, True, True, {'MIRROR': 'default'})"
    )
    assert middleware == "True"


def test_without_replicas_nothing_changes():
    done = _settings(DATABASE_URL="postgres://desk@primary:5432/desk")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[] []", "None", "False"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DATABASE_REPLICA_URLS": "mysql://u:secret@h/db"},
            "DATABASE_REPLICA_URLS: entry 1 must be a postgres:// URL, not 'mysql'.",
        ),
        (
            {"DATABASE_URL": "", "DATABASE_REPLICA_URLS": "postgres://h/db"},
            "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL.",
        ),
        ({"REPLICA_MAX_LAG_SECONDS": "soon"}, "REPLICA_MAX_LAG_SECONDS must be a whole number"),
        ({"REPLICA_PIN_SECONDS": "0"}, "REPLICA_PIN_SECONDS must be at least 1; got 0"),
    ],
)
def test_bad_replica_settings_stop_the_desk_with_a_clear_message(env, message):
    done = _settings(**{"DATABASE_URL": "postgres://desk@primary/desk", **env})
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr
    assert "secret" not in done.stderr
