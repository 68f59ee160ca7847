"""SLA alerts through crashes and restarts, with real worker and beat processes on a throwaway
PostgreSQL cluster and redis-server (and, for the tests taking `broker`, a throwaway RabbitMQ
node as well). Incidents get targets of seconds and an escalation policy;
each test ends with every warning and breach taken in by the webhook sink, and every escalation
level by the SMTP sink, once per delivery id and under one id each, none missing, and one alert
row per natural key (SlaTenant.assert_every_alert_once)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from tests.faults.harness import wait_for
from tests.faults.tenants import SlaPlan

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]

# Due 1 s (response 50%), 2 s (response breach, level 1), 2.5 s (resolution 50%), 4 s (level 2)
# and 5 s (resolution breach) after the report.
PLAN = SlaPlan(response=2, resolution=5, warn=(50,), levels=(2, 2))
SWEEP = "WITH due AS"  # the sweep's claiming statement, as pg_stat_activity shows it
SWEPT = re.compile(r"Task escalation\.sweep_clocks\[[^\]]+\] succeeded in [\d.]+s: (\d+)")


def _now() -> datetime:
    return datetime.now(UTC)


def _all_due(reported_at: float, plan: SlaPlan = PLAN) -> None:
    """Sleep until every alert of incidents reported by `reported_at` (monotonic) is due."""
    time.sleep(max(0.0, reported_at + plan.last_due + 0.5 - time.monotonic()))


def _sweeps(log: str) -> list[int]:
    """Alerts written by each sweep a worker finished."""
    return [int(n) for n in SWEPT.findall(log)]


def test_a_worker_killed_in_mid_sweep_is_replaced_and_every_alert_arrives_once(
    sla_tenant, celery_procs, pg_cluster, broker
):
    batch = 3
    celery_procs.env["SLA_SWEEP_BATCH_SIZE"] = str(batch)
    sla_tenant.configure(PLAN)
    sla_tenant.report(8)  # 16 clocks: six batches
    total = len(sla_tenant.expected_alerts())
    with pg_cluster.transaction() as held:
        # A clock of the third batch: the sweep commits two batches, then waits in the third
        # with its three clocks locked.
        sla_tenant.hold_clock(held, position=2 * batch + 1)
        _, first = celery_procs.start("w1")
        wait_for(lambda: pg_cluster.lock_waiters(SWEEP) == 1, 30, "a sweep to wait mid-batch")
        swept = sla_tenant.alert_count()
        first.kill()
        assert 0 < swept < total, f"not in mid-sweep: {swept} of {total} alerts written"

        # The dead worker's statement still holds its batch: the new worker's sweeps skip it.
        celery_procs.worker("w2")
        wait_for(lambda: sla_tenant.alert_count() > swept, 30, "w2 to sweep past the held batch")
    # The test's transaction is rolled back: the orphaned statement ends, committed or not.

    sla_tenant.assert_every_alert_once()
    assert sla_tenant.all_signed()


def test_a_worker_killed_while_posting_an_sla_alert_is_replaced(sla_tenant, celery_procs):
    sla_tenant.configure(PLAN)
    cut_off = sla_tenant.report_and_kill_mid_post(celery_procs, 4)  # an SLA alert's POST

    # The cut-off row's claim goes stale (8 s here) and the relay sends it again, same id.
    sla_tenant.assert_every_alert_once(repeats_allowed=cut_off)
    assert all(sla_tenant.sink.ids()[delivery_id] == 2 for delivery_id in cut_off)


def test_a_broker_restart_while_clocks_come_due_loses_no_alert(sla_tenant, celery_procs, broker):
    sink = sla_tenant.sink
    sla_tenant.configure(PLAN)
    celery_procs.start("w1")
    sink.delay = 0.5  # slow answers: triggers wait in the broker
    sla_tenant.report(6)
    wait_for(sink.received_ids, 30, "the first SLA alert at the sink")
    wait_for(lambda: broker.deliveries_queued() > 0, 10, "triggers waiting in the broker")
    # Fresh clocks whose checkpoints are still ahead: on a slow machine the first ones' may all
    # have passed by now.
    sla_tenant.report(2)
    down = _now()
    broker.stop()  # killed: Redis loses the queued triggers, RabbitMQ's quorum queue keeps them
    # Clocks come due meanwhile; beat and the worker cannot reach the broker. The broker stays
    # down until a checkpoint has passed unswept (the sweep's alert rows can only come after),
    # and not much longer: the worker tries again 2 s after losing it, then 4 s later.
    time.sleep(1.5)
    wait_for(lambda: sla_tenant.came_due_unswept(down, _now()) > 0, 10, "a clock coming due")
    broker.start()
    up = _now()
    sink.delay = 0

    sla_tenant.assert_every_alert_once()
    assert sla_tenant.due_between(down, up) > 0, "no clock came due while the broker was down"


def test_a_postgresql_restart_while_clocks_come_due_loses_and_doubles_nothing(
    sla_tenant, celery_procs, pg_cluster
):
    sink = sla_tenant.sink
    sla_tenant.configure(PLAN)
    _, worker = celery_procs.start("w1")
    sink.delay = 2.0
    sla_tenant.report(4)
    wait_for(sink.in_flight_ids, 30, "an SLA alert in flight")
    down = _now()
    pg_cluster.stop("immediate")
    assert sink.in_flight_ids(), "the POST ended before the database went down"
    # The receiver takes the alert in while the worker cannot record that it was sent.
    wait_for(lambda: not sink.in_flight_ids(), 10, "the sink to answer")
    time.sleep(0.5)
    pg_cluster.start()
    up = _now()
    sink.delay = 0

    sla_tenant.assert_every_alert_once()  # no repeat: nobody was killed in mid-send
    if pg_cluster.pooler_url is None:
        assert "the database is away, retrying" in worker.text()  # it waited to record the send
    # Through PgBouncer the worker never sees the outage: its statement waits in the pooler
    # (query_wait_timeout, 10 s) until PostgreSQL is back, and is recorded once all the same.
    assert sla_tenant.due_between(down, up) > 0, "no clock came due while PostgreSQL was down"


def test_two_sweepers_in_two_workers_write_and_send_each_alert_once(
    sla_tenant, celery_procs, pg_cluster
):
    batch = 4
    celery_procs.env["SLA_SWEEP_BATCH_SIZE"] = str(batch)
    sla_tenant.configure(PLAN)
    sla_tenant.report(16)  # 32 clocks and 16 climbs
    reported = time.monotonic()
    workers = celery_procs.start("w1", "w2", beat=False)
    _all_due(reported)
    with pg_cluster.transaction() as held:
        # The first sweep waits in its first batch, holding four clocks, while the second
        # sweeps in the other worker: two sweepers at once, every time.
        sla_tenant.hold_clock(held, position=0)
        sla_tenant.desk.driver("sweep")
        wait_for(lambda: pg_cluster.lock_waiters(SWEEP) == 1, 30, "the first sweep to wait")
        sla_tenant.desk.driver("sweep")
        wait_for(lambda: any(_sweeps(w.text()) for w in workers), 30, "the second sweep")
    wait_for(lambda: all(_sweeps(w.text()) for w in workers), 30, "the first sweep to finish")

    sla_tenant.assert_every_alert_once()
    first, second = (max(_sweeps(w.text())) for w in workers)
    assert first > 0 and second > 0, "both sweepers wrote alerts"
    assert sorted([first, second])[0] == 2 * batch  # the held batch: 4 clocks, 2 thresholds


# Timed on the whole machine (which thresholds fall while beat is down): beside other fault
# tests on two busy cores it misses its window, so it runs in CI's Storm leg, alone.
@pytest.mark.storm
def test_beat_stopped_while_clocks_come_due_then_every_alert_arrives_once(sla_tenant, celery_procs):
    sink = sla_tenant.sink
    # Due 1, 2, 3 (level 1), 6 (level 2 and the resolution warning) and 12 s after the report:
    # the last ones late enough to come due after beat stops even when a busy machine delivers
    # the first alert, which the stop waits for, seconds late.
    plan = SlaPlan(response=2, resolution=12, warn=(50,), levels=(3, 3))
    sla_tenant.configure(plan)
    beat, _ = celery_procs.start("w1")
    sla_tenant.report(4)
    wait_for(sink.ids, 30, "the first SLA alert at the sink")
    beat.stop()
    stopped = _now()
    time.sleep(1)  # the last sweep beat triggered is over
    written = sla_tenant.alert_count()
    wait_for(lambda: sla_tenant.overdue_unswept() >= 4, 10, "clocks due while beat is down")
    # A clock's threshold reached after the stop (not one a busy sweep had not reached before
    # it, nor an escalation level, which goes by mail rather than to the sink).
    wait_for(
        lambda: sla_tenant.came_due_unswept(stopped, _now(), runs=False) > 0,
        15,
        "a clock coming due",
    )
    time.sleep(1)
    assert sla_tenant.alert_count() == written, "without beat nothing is swept"
    restarted = _now()
    celery_procs.beat()

    sla_tenant.assert_every_alert_once()
    # What came due while beat was down says when its threshold was reached, not when swept.
    reached = [
        datetime.fromisoformat(d.json()["data"]["sla"]["reached_at"]) for d in sink.deliveries
    ]
    assert any(stopped < at < restarted for at in reached), (stopped, restarted, sorted(reached))
