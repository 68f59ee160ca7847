"""Fixtures for fault-injection tests (documented in tests/faults/README.md).

Session: one throwaway PostgreSQL cluster (migrated) and one redis-server for all fault tests.
Per test: services running and the broker empty at the start, a webhook sink (and an SMTP
sink), a fresh tenant with an endpoint at the sink, and Celery processes that are stopped at the
end. The tenants and their end-of-test assertions are in tenants.py.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.escalation.smtp_sink import SmtpSink, start_sink
from tests.faults.harness import (
    CeleryProcesses,
    Desk,
    PgBouncer,
    PgCluster,
    RedisServer,
    child_env,
)
from tests.faults.rabbit import Broker, RabbitServer
from tests.faults.sink import WebhookSink
from tests.faults.tenants import FaultTenant, SlaTenant


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
def pg_pooler(pg_cluster: PgCluster) -> Iterator[str | None]:
    """With PGBOUNCER=1 (CI's PgBouncer leg): the URL of a PgBouncer in transaction pooling in
    front of the throwaway cluster (.ci/pgbouncer), which the desk's processes then go through,
    as docs/deployment.md advises for larger installations. Otherwise None: they connect direct.
    The tests' own queries (pg_cluster.query) always go direct."""
    if os.environ.get("PGBOUNCER") != "1":
        yield None
        return
    pooler = PgBouncer(pg_cluster.port, "desk", prefix="sd-faults-pgbouncer-")
    try:
        pg_cluster.pooler_url = pooler.start()
        yield pg_cluster.pooler_url
    finally:
        pg_cluster.pooler_url = None
        pooler.stop()


@pytest.fixture(scope="session")
def fault_env(
    pg_cluster: PgCluster, redis_server: RedisServer, pg_pooler: str | None, fault_workdir: Path
) -> dict:
    """Environment for child processes; the cluster is migrated once per session (direct:
    migrations need no pooler, and a failed one is easier to read)."""
    env = child_env(pg_cluster, redis_server, fault_workdir)
    Desk(env, fault_workdir).manage("migrate", "--noinput", "-v", "0")
    if pg_pooler:
        env.update(DATABASE_URL=pg_pooler, PGBOUNCER="1")
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


@pytest.fixture
def fault_tenant(
    desk: Desk, pg_cluster: PgCluster, webhook_sink: WebhookSink, services_up: None
) -> FaultTenant:
    slug = f"faults-{uuid.uuid4().hex[:8]}"
    made = desk.driver("setup", "--slug", slug, "--url", webhook_sink.url("/hook"))
    return FaultTenant(slug, made["secret"], desk, pg_cluster, webhook_sink)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    sink, controller = start_sink()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture
def sla_tenant(
    desk: Desk,
    pg_cluster: PgCluster,
    webhook_sink: WebhookSink,
    smtp_sink: SmtpSink,
    celery_procs: CeleryProcesses,
) -> SlaTenant:
    """A tenant whose endpoint takes sla.warning and sla.breached only; the test's workers send
    its mail to the SMTP sink. Call `.configure(SlaPlan(...))` before reporting."""
    slug = f"sla-{uuid.uuid4().hex[:8]}"
    events = "sla.warning,sla.breached"
    url = webhook_sink.url("/hook")
    made = desk.driver("setup", "--slug", slug, "--url", url, "--events", events)
    celery_procs.env.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp_sink.host,
        EMAIL_PORT=str(smtp_sink.port),
        EMAIL_TIMEOUT="4",
    )
    return SlaTenant(slug, made["secret"], desk, pg_cluster, webhook_sink, smtp_sink)


@pytest.fixture(scope="session")
def pg_standby(pg_cluster: PgCluster, fault_env: dict) -> Iterator[PgCluster]:
    """A streaming replica of the session's cluster (pg_basebackup -R), made after migrating."""
    standby = pg_cluster.standby()
    yield standby
    standby.close()


@pytest.fixture
def replica(pg_standby: PgCluster, services_up: None) -> PgCluster:
    """The standby running and replaying (a test may have stopped it or paused its replay)."""
    try:
        pg_standby.query("SELECT 1", (), "postgres")
    except Exception:
        pg_standby.start()
    pg_standby.query("SELECT pg_wal_replay_resume()", (), "postgres")
    return pg_standby


# --- Both brokers (issue 19): RabbitMQ as well as Redis ----------------------------------------
# A test that takes `broker` runs twice, on the session's redis-server and on a throwaway
# RabbitMQ node (tests/faults/rabbit.py), started once per session and only when a test asks.


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RabbitServer]:
    server = RabbitServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def rabbitmq_desk(fault_env: dict, rabbitmq_server: RabbitServer, fault_workdir: Path):
    """The driver with CELERY_BROKER_URL at the RabbitMQ node: what it reports is triggered
    there. REDIS_URL stays, for the cache and the relay's follow-up key."""
    driver = Desk({**fault_env, "CELERY_BROKER_URL": rabbitmq_server.url()}, fault_workdir)
    yield driver
    driver.close()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    desk: Desk,
    celery_procs: CeleryProcesses,
) -> Broker:
    """The test's broker, up and empty; its Celery processes and its tenant (fault_tenant or
    sla_tenant) publish to it."""
    if request.param == "redis":
        chosen = Broker("redis", redis_server, desk)
    else:
        server: RabbitServer = request.getfixturevalue("rabbitmq_server")
        env = {"CELERY_BROKER_URL": server.url()}
        chosen = Broker("rabbitmq", server, request.getfixturevalue("rabbitmq_desk"), env)
    chosen.empty()
    celery_procs.env.update(chosen.env)
    for name in ("fault_tenant", "sla_tenant"):
        if name in request.fixturenames:
            request.getfixturevalue(name).desk = chosen.desk
    return chosen
