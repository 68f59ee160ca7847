"""Notification delivery through crashes and restarts, with real worker and beat processes on a
throwaway PostgreSQL cluster and redis-server (and, for the tests taking `broker`, a throwaway
RabbitMQ node as well). Each test ends with every webhook row sent and taken in by the sink
exactly once per delivery id, none missing."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import free_port, wait_for
from tests.faults.rabbit import DELIVERY_LANES

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]


def test_a_worker_killed_in_mid_send_is_replaced_and_nothing_is_lost(
    fault_tenant, celery_procs, broker
):
    sink = fault_tenant.sink
    cut_off = fault_tenant.report_and_kill_mid_post(celery_procs, 4)

    # The cut-off row stays claimed until its claim is older than the task time limit plus the
    # grace (8 s here); then the relay sends it again, with the same delivery id. (RabbitMQ
    # hands the killed worker's message to w2 at once: the claim makes it skip the row.)
    fault_tenant.assert_each_delivered_once(4, repeats_allowed=cut_off, timeout=60)
    assert all(sink.ids()[delivery_id] == 2 for delivery_id in cut_off)
    assert fault_tenant.all_signed()


def test_a_broker_restart_loses_no_delivery(fault_tenant, celery_procs, broker):
    sink = fault_tenant.sink
    celery_procs.start("w1")
    sink.delay = 1.0  # one worker, slow answers: most trigger messages wait in the broker
    fault_tenant.report(6)
    assert broker.deliveries_queued() > 0
    # Killed: Redis (unpersisted) loses the waiting messages; RabbitMQ keeps them in its quorum
    # queue and hands them out again, with the one w1 had not acknowledged.
    broker.stop()
    fault_tenant.report(2)  # broker down: the rows commit and the report still succeeds
    broker.start()
    sink.delay = 0

    fault_tenant.assert_each_delivered_once(8)
    assert fault_tenant.all_signed()


def test_a_postgresql_restart_loses_no_delivery(fault_tenant, celery_procs, pg_cluster):
    _, first = celery_procs.start("w1")
    fault_tenant.report(2)
    fault_tenant.wait_all_sent(2)
    first.stop()
    fault_tenant.report(3)  # nobody consumes: the triggers wait in Redis
    pg_cluster.stop("immediate")
    second = celery_procs.worker("w2")  # takes the triggers while the database is down
    wait_for(lambda: "OperationalError" in second.text(), 30, "w2 to meet the dead database")
    time.sleep(2)
    pg_cluster.start()
    fault_tenant.report(2)  # after the restart, on connections the worker must renew

    fault_tenant.assert_each_delivered_once(7)


def test_two_workers_given_the_same_rows_at_once_send_each_once(
    fault_tenant, celery_procs, redis_server
):
    sink = fault_tenant.sink
    fault_tenant.report(12)
    # The first triggers are lost, in both lanes: the rows wait pending.
    redis_server.client().delete(*DELIVERY_LANES)
    workers = celery_procs.start("w1", "w2", beat=False)
    sink.delay = 0.3
    # Each row triggered twice back to back: the two workers take the pair at the same moment
    # and only the claim keeps them from both sending it.
    fault_tenant.desk.driver("trigger", "--slug", fault_tenant.slug, "--times", "2")

    fault_tenant.assert_each_delivered_once(12)
    for worker in workers:
        assert "'sent'" in worker.text(), f"{worker.name} delivered nothing"
    assert "'skipped'" in workers[0].text() + workers[1].text()


def test_beat_stopped_for_a_while_then_the_relay_sends_what_was_missed(fault_tenant, celery_procs):
    sink = fault_tenant.sink
    beat, _ = celery_procs.start("w1")
    fault_tenant.report(1)
    fault_tenant.wait_all_sent(1)
    beat.stop()

    sink.status = 503  # first attempts fail; only the relay tries a row again
    fault_tenant.report(3)
    wait_for(lambda: len(sink.received_ids()) == 4, 30, "the three failing first attempts")
    dead_broker = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    fault_tenant.report(2, env=dead_broker)  # committed, but the trigger never reached a worker
    time.sleep(4)
    statuses = sorted(fault_tenant.webhook_rows().values())
    assert statuses == ["pending"] * 5 + ["sent"], "without beat, nothing is tried again"

    sink.status = 200
    celery_procs.beat()
    fault_tenant.assert_each_delivered_once(6)
