"""Fixtures for fault-injection tests (documented in tests/faults/README.md).

Session: one throwaway PostgreSQL cluster (migrated) and one redis-server for all fault tests.
Per test: services running and the broker empty at the start, a webhook sink, a fresh tenant
with an endpoint at the sink, and Celery processes that are stopped at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.harness import (
    CeleryProcesses,
    Desk,
    PgCluster,
    RedisServer,
    child_env,
    wait_for,
)
from tests.faults.sink import WebhookSink


@pytest.fixture(scope="session")
def fault_workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("faults")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    try:
        cluster.start()
        cluster.create_database("desk")
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="session")
def redis_server(fault_workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(fault_workdir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fault_env(pg_cluster: PgCluster, redis_server: RedisServer, fault_workdir: Path) -> dict:
    """Environment for child processes; the cluster is migrated once per session."""
    env = child_env(pg_cluster, redis_server, fault_workdir)
    Desk(env, fault_workdir).manage("migrate", "--noinput", "-v", "0")
    return env


@pytest.fixture
def services_up(pg_cluster: PgCluster, redis_server: RedisServer) -> None:
    """Each test starts with both services up (a failed test may have left one down) and an
    empty broker, so messages from an earlier test cannot blur this one's counts."""
    try:
        pg_cluster.query("SELECT 1")
    except Exception:
        pg_cluster.start()
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    redis_server.client().flushall()


@pytest.fixture(scope="session")
def desk(fault_env: dict, fault_workdir: Path) -> Iterator[Desk]:
    driver = Desk(fault_env, fault_workdir)
    yield driver
    driver.close()


@pytest.fixture
def celery_procs(fault_env: dict, tmp_path: Path, services_up: None) -> Iterator[CeleryProcesses]:
    procs = CeleryProcesses(fault_env, tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def webhook_sink() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink


@dataclass
class FaultTenant:
    """A tenant of the throwaway cluster whose one webhook endpoint points at the sink."""

    slug: str
    secret: str
    desk: Desk
    pg: PgCluster
    sink: WebhookSink

    def report(self, count: int, env: dict | None = None) -> list[int]:
        """Report incidents in a separate process: each writes one webhook row (created)."""
        args = ("report", "--slug", self.slug, "--count", str(count))
        return self.desk.driver(*args, env=env)["numbers"]

    def webhook_rows(self) -> dict[str, str]:
        """delivery id -> status of every webhook notification of the tenant."""
        rows = self.pg.query(
            "SELECT n.delivery_id::text, n.status FROM escalation_notification n "
            "JOIN tenancy_tenant t ON t.id = n.tenant_id "
            "WHERE t.slug = %s AND n.channel = 'webhook'",
            (self.slug,),
        )
        return dict(rows)

    def wait_all_sent(self, expected: int, timeout: float = 60) -> dict[str, str]:
        def done() -> bool:
            rows = self.webhook_rows()
            return len(rows) == expected and set(rows.values()) == {"sent"}

        try:
            wait_for(done, timeout, f"{expected} webhook rows of {self.slug} to be sent")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; rows: {self.webhook_rows()}") from None
        return self.webhook_rows()

    def assert_each_delivered_once(
        self, expected: int, *, repeats_allowed: frozenset[str] = frozenset(), timeout: float = 60
    ) -> None:
        """Every row sent, and the sink took in each delivery id exactly once, none missing and
        none foreign; a repeat only for the ids in `repeats_allowed` (cut off in mid-send)."""
        rows = self.wait_all_sent(expected, timeout)
        wait_for(lambda: set(self.sink.ids()) >= set(rows), 10, "the sink to count every id")
        counts = self.sink.ids()
        assert set(counts) == set(rows), "missing or foreign delivery ids at the sink"
        repeated = {delivery_id for delivery_id, n in counts.items() if n > 1}
        assert repeated <= repeats_allowed, f"delivered more than once: {repeated}"


@pytest.fixture
def fault_tenant(
    desk: Desk, pg_cluster: PgCluster, webhook_sink: WebhookSink, services_up: None
) -> FaultTenant:
    slug = f"faults-{uuid.uuid4().hex[:8]}"
    made = desk.driver("setup", "--slug", slug, "--url", webhook_sink.url("/hook"))
    return FaultTenant(slug, made["secret"], desk, pg_cluster, webhook_sink)
