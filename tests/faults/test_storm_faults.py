"""A storm of incidents, and the faults that made it worse (issue 16), with beat and the worker
and timers processes started as the Procfile starts them: the SLA timers keep time while
deliveries pile up, the relay cannot feed itself, one tenant's trickling receiver holds up no
other tenant, and a Redis FLUSHALL in mid-storm loses nothing."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.faults.harness import wait_for
from tests.faults.rabbit import DELIVERY_LANES
from tests.faults.sink import WebhookSink
from tests.faults.storm import lateness
from tests.faults.tenants import FaultTenant, SlaPlan, SlaTenant

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]
log = logging.getLogger("tests.faults")

# As in the storm: 5 s response and 10 s resolution targets, a warning at 50%, so each
# incident's four alerts come due 2.5, 5, 5 and 10 s after it was reported. No escalation level
# (the default policy's first is hours away): warnings and breaches only.
STORM = SlaPlan(response=5, resolution=10, warn=(50,), levels=())


@contextmanager
def sampled(read, every: float = 0.25) -> Iterator[list]:
    """Read a value every `every` seconds in a thread while the block runs."""
    values: list = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a service down for the test: no sample
                values.append(read())
            stop.wait(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield values
    finally:
        stop.set()
        thread.join(5)


def _waiting(broker) -> int:
    """Delivery triggers waiting in Redis, in both lanes (a storming tenant's go to the bulk
    lane: escalation/services/lanes.py)."""
    return sum(broker.llen(lane) for lane in DELIVERY_LANES)


def _report_burst(tenant, count: int) -> float:
    started = time.monotonic()
    tenant.report(count, threads=4)
    took = time.monotonic() - started
    log.info("reported %s incidents in %.1fs", count, took)
    return took


def _wait_all_sent(tenant, alerts: int, timeout: float) -> None:
    """Until every alert is written and every outbox row of the tenant sent: one cheap count a
    second (a storm's thousands of rows are not read again and again while the desk works)."""

    def done() -> bool:
        rows = tenant.pg.query(
            "SELECT (SELECT count(*) FROM escalation_slaalert a WHERE a.tenant_id = t.id "
            "AND a.kind <> 'assigned'), (SELECT count(*) FROM escalation_notification n "
            "WHERE n.tenant_id = t.id AND n.status <> 'sent') FROM tenancy_tenant t "
            "WHERE t.slug = %s",
            (tenant.slug,),
        )
        written, unsent = rows[0]
        return written == alerts and unsent == 0

    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not all sent after {timeout:.0f}s: {dict(tenant.outbox())}")
        time.sleep(1)
    log.info("%.1fs until every alert was delivered", time.monotonic() - start)


# Its goal is about time on the machine's CPU: CI runs it in a leg of its own, alone on the
# machine (.ci/run); the suite's legs, which share the machine between two test processes,
# leave it out (pyproject.toml: -m 'not storm').
@pytest.mark.storm
def test_a_storm_of_1000_incidents_keeps_every_alert_on_time(sla_tenant, celery_procs):
    celery_procs.start_as_procfile()
    sla_tenant.configure(STORM)
    _report_burst(sla_tenant, 1000)

    _wait_all_sent(sla_tenant, 4000, timeout=300)
    sla_tenant.assert_every_alert_once(timeout=30)  # none lost, none doubled
    late = lateness(sla_tenant.pg, [sla_tenant.slug])
    log.info("storm lateness:\n%s", "\n".join(late.lines()))
    assert len(late.written) == len(sla_tenant.expected_alerts()) == 4000
    assert max(late.written) <= 30, late.lines()
    _, p95, _ = late.summary(late.delivered)
    # The goal. It needs the CPU to deliver ~13,000 rows in about a minute: a busy shared
    # two-core machine does not have it (bench/README.md), so the bound can be raised there.
    assert p95 <= float(os.environ.get("STORM_DELIVERED_P95_SECONDS", "60")), late.lines()


# --- one tenant's storm, another tenant's alerts ------------------------------------------------


@pytest.fixture
def calm_sink() -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        yield sink


def _another_sla_tenant(first: SlaTenant, sink: WebhookSink) -> SlaTenant:
    """A second tenant as the sla_tenant fixture makes one, with a webhook sink of its own (a
    tenant's checks read every delivery at its sink) and the first's mail sink."""
    slug = f"calm-{uuid.uuid4().hex[:8]}"
    events = "sla.warning,sla.breached"
    made = first.desk.driver(
        "setup", "--slug", slug, "--url", sink.url("/hook"), "--events", events
    )
    return SlaTenant(slug, made["secret"], first.desk, first.pg, sink, first.smtp)


# Timed on the whole machine, as the storm above: CI's Storm leg runs it alone.
@pytest.mark.storm
def test_a_tenants_storm_waits_in_its_own_lane_and_another_tenants_alerts_stay_on_time(
    sla_tenant, celery_procs, redis_server, calm_sink
):
    """One tenant reports 400 incidents (1,600 alerts, a few thousand outbox rows); another
    reports 5 just after, due in the same seconds. The storm's triggers wait in the bulk lane
    (escalation/services/lanes.py) and the other tenant's alerts go out on time: before the
    lanes they waited behind the storm's whole backlog (bench/tenants_bench.py)."""
    storm, calm = sla_tenant, _another_sla_tenant(sla_tenant, calm_sink)
    broker = redis_server.client()
    storm.configure(STORM)
    calm.configure(STORM)
    celery_procs.start_as_procfile()
    _report_burst(storm, 400)
    with sampled(lambda: broker.llen("delivery_bulk")) as bulk:
        calm.report(5)
        _wait_all_sent(calm, 20, timeout=120)
    _wait_all_sent(storm, 1600, timeout=300)
    calm.assert_every_alert_once(timeout=30)
    storm.assert_every_alert_once(timeout=30)

    calm_late, storm_late = lateness(calm.pg, [calm.slug]), lateness(storm.pg, [storm.slug])
    log.info("beside the storm:\n%s", "\n".join(calm_late.lines()))
    log.info("the storm:\n%s", "\n".join(storm_late.lines()))
    assert len(calm_late.delivered) == 20
    # The storm drains for tens of seconds; the calm tenant's alerts wait for a few of its
    # tasks, not for half its backlog (measured in one lane: max 13.6 s beside a storm median
    # of 11.1 s; in two: 2.0-4.3 s beside 12.7-20.5 s).
    storm_p50, _, _ = storm_late.summary(storm_late.delivered)
    assert max(calm_late.delivered) <= min(10, storm_p50 / 2), (calm_late, storm_late)
    assert max(bulk) > 0, "the storm's triggers never waited in the bulk lane"


# --- the relay cannot feed itself -------------------------------------------------------------

RELAYED = re.compile(r"Task escalation\.relay_notifications\[[^\]]+\] succeeded in [\d.]+s: (\d+)")


def test_a_worker_killed_with_rows_in_flight_recovers_on_its_own(
    fault_tenant, celery_procs, redis_server
):
    """The issue's relay flood: a short relay interval (1 s, rows unsent for 2 s relayed), a slow
    receiver, and the worker killed with rows in flight. The relay adds triggers only up to its
    cap of waiting messages, so the queue never grows while the worker is away, and the rows
    go out once a worker is back, each once (twice only if cut off in mid-send)."""
    cap = 40
    celery_procs.env["NOTIFICATION_RELAY_MAX_QUEUED"] = str(cap)
    sink, broker = fault_tenant.sink, redis_server.client()
    sink.delay = 0.2  # a slow receiver: triggers wait in the queue
    _, worker, timers = celery_procs.start_as_procfile()
    fault_tenant.report(120, threads=2)
    wait_for(lambda: len(sink.ids()) >= 10, 60, "deliveries under way")
    wait_for(sink.in_flight_ids, 30, "a POST in flight")
    cut_off = frozenset(sink.in_flight_ids())
    worker.kill()
    queued = _waiting(broker)
    relays_before = len(RELAYED.findall(timers.text()))
    with sampled(lambda: _waiting(broker)) as depths:
        time.sleep(6)  # the relay runs about six times meanwhile
    relays = RELAYED.findall(timers.text())
    assert len(relays) > relays_before + 2, "the relay kept running"
    assert max(depths) <= max(queued, cap), f"the queue grew from {queued}: {max(depths)}"

    celery_procs.procfile("worker", name="worker2")
    sink.delay = 0
    fault_tenant.assert_each_delivered_once(120, repeats_allowed=cut_off, timeout=120)
    # The relay adds only once the queue has drained (to a tenth of its cap), so a row whose
    # trigger still waits is seldom triggered again: a few repeats, never a flood.
    added = sum(int(n) for n in RELAYED.findall(timers.text()))
    assert added <= 2 * 120, f"the relay sent {added} triggers for 120 rows"


# --- one tenant's trickling receiver --------------------------------------------------------------

DELIVERY_TOOK = re.compile(
    r"Task escalation\.deliver_notifications?\[[^\]]+\] succeeded in ([\d.]+)s: .*'pending'"
)


def test_a_trickling_receiver_is_cut_off_and_another_tenants_alerts_stay_on_time(
    sla_tenant, celery_procs, desk, pg_cluster
):
    """A receiver that sends a byte every 3 s: each attempt ends at the deadline (5 s here), at
    most two are in flight at once (WEBHOOK_ENDPOINT_CONCURRENCY), and another tenant's SLA
    alerts are delivered on time meanwhile."""
    sink = sla_tenant.sink
    slug = f"slow-{uuid.uuid4().hex[:8]}"
    made = desk.driver("setup", "--slug", slug, "--url", sink.url("/trickle/3"))
    slow = FaultTenant(slug, made["secret"], desk, pg_cluster, sink)
    sla_tenant.configure(SlaPlan(response=4, resolution=8, warn=(50,), levels=()))
    _, worker, _ = celery_procs.start_as_procfile()
    slow.report(12)

    def slow_sending() -> int:
        rows = pg_cluster.query(
            "SELECT count(*) FROM escalation_notification n JOIN tenancy_tenant t "
            "ON t.id = n.tenant_id WHERE t.slug = %s AND n.channel = 'webhook' "
            "AND n.status = 'sending'",
            (slug,),
        )
        return rows[0][0]

    wait_for(slow_sending, 30, "the trickling receiver's first deliveries")
    with sampled(slow_sending) as in_flight:
        sla_tenant.report(10)
        _wait_all_sent(sla_tenant, 40, timeout=90)
    sla_tenant.assert_every_alert_once(timeout=30)
    late = lateness(pg_cluster, [sla_tenant.slug])
    log.info("the other tenant, beside a trickling receiver:\n%s", "\n".join(late.lines()))
    assert max(late.delivered) <= 15, late.lines()  # the issue saw 53-59 s
    assert max(in_flight) <= 2, f"{max(in_flight)} deliveries to one endpoint at once"
    attempts = [float(s) for s in DELIVERY_TOOK.findall(worker.text())]
    assert attempts and max(attempts) < 5 + 2, f"attempts took {attempts}"
    errors = {row[0] for row in pg_cluster.query(
        "SELECT n.last_error FROM escalation_notification n JOIN tenancy_tenant t "
        "ON t.id = n.tenant_id WHERE t.slug = %s AND n.channel = 'webhook' "
        "AND n.status = 'pending' AND n.attempts > 0", (slug,),
    )}  # fmt: skip
    assert errors and all("deadline of 5s" in e for e in errors), errors
    assert not set(sink.ids()) & set(slow.webhook_rows()), "the trickler never answered in time"


# --- Redis flushed in mid-storm -------------------------------------------------------------------


def test_redis_flushed_in_mid_storm_loses_and_doubles_nothing(
    sla_tenant, celery_procs, redis_server
):
    broker = redis_server.client()
    celery_procs.start_as_procfile()
    sla_tenant.configure(STORM)
    sla_tenant.report(300, threads=4)
    wait_for(lambda: _waiting(broker) > 100, 60, "a storm's triggers waiting")
    wait_for(lambda: sla_tenant.outbox()[("webhook", "sent")] > 0, 60, "alerts going out")
    broker.flushall()  # every waiting trigger, sweep and relay message gone
    log.info("flushed with %s", dict(sla_tenant.outbox()))

    _wait_all_sent(sla_tenant, 1200, timeout=240)
    sla_tenant.assert_every_alert_once(timeout=30)
    late = lateness(sla_tenant.pg, [sla_tenant.slug])
    log.info("storm with FLUSHALL:\n%s", "\n".join(late.lines()))
    assert max(late.written) <= 30, late.lines()
