"""PostgreSQL stopped under API writers: the web as the Procfile starts it (gunicorn), eight
clients reporting incidents, each with an Idempotency-Key it retries until it succeeds. While
the database is down every answer is a 503 with Retry-After, never a 500; once it is back, none,
also after a second restart while the writers pause (the web's kept connections are
health-checked before reuse); and every key made exactly one incident.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

import pytest

from tests.faults.harness import free_port, wait_for
from tests.faults.harness import log as logger

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]

WRITERS = 8
OUTAGE_SECONDS = 7


@dataclass
class Answer:
    key: str
    sent: float  # time.monotonic() when the request went out
    status: int  # 0: no HTTP answer at all (connection refused or reset)
    retry_after: str | None
    replayed: bool
    body: str


@dataclass
class Writers:
    """Clients that report incidents one after another, each under a fresh Idempotency-Key
    retried (after a short pause) until it is answered 201; every answer is kept."""

    base: str
    secret: str
    answers: list[Answer] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    busy: int = 0  # writers with a key in hand
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, key: str) -> Answer:
        request = urllib.request.Request(
            f"{self.base}/api/v1/incidents/",
            data=json.dumps({"title": key}).encode(),
            method="POST",
            headers={
                "Authorization": f"Bearer {self.secret}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )
        sent = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, headers, body = exc.code, exc.headers, exc.read()
        except OSError as exc:
            return Answer(key, sent, 0, None, False, repr(exc))
        replayed = headers.get("Idempotent-Replayed") == "true"
        return Answer(key, sent, status, headers.get("Retry-After"), replayed, body.decode())

    def write(self) -> None:
        give_up = None
        while True:
            while self.paused.is_set() and not self.stopping.is_set():
                time.sleep(0.05)
            key = f"drill-{uuid.uuid4().hex}"
            with self.lock:
                self.keys.append(key)
                self.busy += 1
            while True:
                answer = self.post(key)
                with self.lock:
                    self.answers.append(answer)
                if answer.status == 201:
                    with self.lock:
                        self.busy -= 1
                    break
                if self.stopping.is_set():
                    give_up = give_up or time.monotonic() + 60
                    if time.monotonic() > give_up:
                        return  # the key stays unfinished: the test says so
                time.sleep(0.5)  # shorter than Retry-After: see more of the outage
            if self.stopping.is_set():
                return

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.write, daemon=True) for _ in range(WRITERS)]
        for thread in threads:
            thread.start()
        return threads

    def pause(self) -> None:
        """Each writer stops after its key in hand: the web's kept connections go quiet."""
        self.paused.set()
        wait_for(lambda: self.busy == 0, 60, "the writers to pause")

    def count(self, status: int) -> int:
        with self.lock:
            return sum(1 for a in self.answers if a.status == status)


def _readyz(base: str) -> tuple[int, dict, float]:
    began = time.monotonic()
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=30) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, json.loads(body), time.monotonic() - began


def test_postgresql_stopped_under_api_writers_gives_503s_then_none_and_each_key_once(
    fault_tenant, celery_procs, pg_cluster
):
    secret = (
        fault_tenant.desk.manage(
            "create_api_key", "--tenant", fault_tenant.slug, "--name", "monitoring"
        )
        .strip()
        .splitlines()[-1]
    )
    port = free_port()
    celery_procs.env["API_RATE_LIMIT_PER_MINUTE"] = "1000000"  # the limit is not under test
    web = celery_procs.web(port)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _readyz(base)[0] == 200, 60, "the web to be ready")

    writers = Writers(base, secret)
    threads = writers.start()
    wait_for(lambda: writers.count(201) >= 2 * WRITERS, 60, "reports before the outage")

    pg_cluster.stop("immediate")  # a crash: every kept connection is cut
    down_at = time.monotonic()
    wait_for(lambda: writers.count(503) >= WRITERS, 30, "503s during the outage")
    ready_status, ready_body, ready_seconds = _readyz(base)
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
    pg_cluster.start()  # returns once PostgreSQL accepts connections
    up_at = time.monotonic()
    before = writers.count(201)
    wait_for(lambda: writers.count(201) >= before + 4 * WRITERS, 60, "reports after the outage")

    # A restart while the desk is quiet: every kept connection of the web is dead and nothing
    # has used it since; the first request on each must still succeed (health-checked).
    writers.pause()
    pg_cluster.restart("immediate")
    writers.paused.clear()
    before = writers.count(201)
    wait_for(lambda: writers.count(201) >= before + 4 * WRITERS, 60, "reports after a restart")
    writers.stopping.set()
    for thread in threads:
        thread.join(90)

    answers = list(writers.answers)
    log = web.text()
    statuses = sorted({a.status for a in answers})
    tally = {status: sum(1 for a in answers if a.status == status) for status in statuses}
    logger.info(
        "answers by status %s; %d keys; /readyz took %.1fs", tally, len(writers.keys), ready_seconds
    )
    assert ready_status == 503 and ready_body["unavailable"] == ["database"], ready_body
    assert ready_seconds < 5, "/readyz must answer quickly while the database is down"

    unexpected = [a for a in answers if a.status not in (201, 503)]
    assert not unexpected, f"only 201 and 503 expected: {unexpected[:5]}\n{log[-3000:]}"
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable and all(a.retry_after for a in unavailable)
    assert all(json.loads(a.body)["dependency"] == "database" for a in unavailable)
    assert all(a.sent < up_at for a in unavailable), "a 503 after PostgreSQL was back"
    after = [a for a in answers if a.sent >= up_at]
    assert len(after) >= 4 * WRITERS and {a.status for a in after} == {201}

    # Every key answered 201 in the end, and made exactly one incident: none lost, none doubled.
    succeeded = {a.key for a in answers if a.status == 201}
    assert succeeded == set(writers.keys), "a key never succeeded"
    incidents = dict(
        pg_cluster.query(
            "SELECT i.title, count(*) FROM incidents_incident i "
            "JOIN tenancy_tenant t ON t.id = i.tenant_id WHERE t.slug = %s GROUP BY i.title",
            (fault_tenant.slug,),
        )
    )
    assert set(incidents) == succeeded
    assert set(incidents.values()) == {1}, "a key made more than one incident"
    keys_left = pg_cluster.query(
        "SELECT count(*), count(*) FILTER (WHERE completed) FROM tenancy_idempotencyrecord r "
        "JOIN tenancy_tenant t ON t.id = r.tenant_id WHERE t.slug = %s",
        (fault_tenant.slug,),
    )[0]
    assert keys_left == (len(succeeded), len(succeeded)), "a key's record without its work"
