"""The SLA timers apart from the deliveries (issue 16): their own queue and worker, triggers that
are not lost while work is due (the sweep and the notifier re-arm themselves when their budget
runs out, and beat's triggers outlive any wait of the timers queue), a notifier that drains
everything, and the sweep's dead-man check."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings

from escalation import tasks
from escalation.models import SlaAlert, SweepStatus
from escalation.selectors import operations
from escalation.selectors.operations import sweep_stalled
from escalation.services.queues import DELIVERY, TIMERS, queue_depth
from escalation.services.sweep import sweep_due
from servicedesk.celery import app
from tenancy.redis_client import redis_client, shared_key
from tests.escalation.sla_helpers import MONDAY_10, report_high, short_targets
from tests.escalation.worker import broker_for_test, celery_app_publishing_to, drop_broker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _queue(task: str) -> str:
    return app.amqp.router.route({}, task)["queue"].name


def test_timers_and_deliveries_wait_in_queues_of_their_own():
    for task in (
        "escalation.sweep_clocks",
        "escalation.notify_alerts",
        "escalation.audit_clocks",
        "escalation.auto_close",
        "escalation.relay_notifications",
    ):
        assert _queue(task) == TIMERS, task
    assert _queue("escalation.deliver_notification") == DELIVERY
    for task in ("mail.process_inbound", "mail.poll_mailbox", "imports.run_import"):
        assert _queue(task) == "celery", task


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def test_the_procfile_runs_a_timers_worker_that_nothing_else_can_hold():
    procfile = _procfile()
    assert "-Q timers " in procfile["timers"]
    worker = procfile["worker"].split("-Q ", 1)[1].split()[0].split(",")
    assert sorted(worker) == ["celery", "delivery", "delivery_bulk"]
    # prefork: Celery's time limits hold (the code's own deadlines do not need them).
    assert "--pool=prefork" in procfile["timers"] and "--pool=prefork" in procfile["worker"]


def test_beats_timer_triggers_outlive_a_busy_timers_queue():
    """A trigger expires only after SLA_TRIGGER_EXPIRES_SECONDS (a whole interval at least)."""
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    for name in ("sla-sweep-clocks", "sla-notify-alerts", "relay-notifications"):
        entry = schedule[name]
        assert entry["options"]["expires"] >= max(
            entry["schedule"], django_settings.SLA_TRIGGER_EXPIRES_SECONDS
        )
        assert _queue(entry["task"]) == TIMERS


@pytest.fixture
def broker(tmp_path, settings):
    """Tasks published for real to a queue of this test's own."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    found = broker_for_test(tmp_path)
    with celery_app_publishing_to(found):
        yield found
    drop_broker(found)


@pytest.fixture
def travel(people):
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield lambda **delta: traveller.move_to(MONDAY_10 + timedelta(**delta))


def test_a_sweep_whose_budget_runs_out_rearms_itself_at_once(people, travel, broker, settings):
    short_targets(people.acme, response=100, resolution=1000)
    for _ in range(3):
        report_high(people)
    travel(seconds=60)
    settings.SLA_SWEEP_BATCH_SIZE = 1
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # a budget of nothing: one look, then hand over
    assert queue_depth(TIMERS) == 0
    tasks.sweep_clocks()
    assert queue_depth(TIMERS) == 1  # itself, again, without waiting for beat
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 240
    result = sweep_due()
    assert result.alerts == 3 and not result.unfinished


def test_the_notifier_drains_every_alert_however_many_batches(people, travel, monkeypatch):
    short_targets(people.acme, response=100, resolution=1000)
    for _ in range(30):
        report_high(people)
    travel(seconds=90)  # the 50% and 80% warnings of each: 60 alerts
    assert sweep_due().alerts == 60
    monkeypatch.setattr(tasks, "NOTIFY_BATCH", 1)  # 60 batches: the old notifier stopped at 50
    tasks.notify_alerts()
    assert not SlaAlert.objects.filter(notified_at=None).exists()


def test_a_notifier_trigger_finding_every_slot_taken_leaves_the_work_to_them(
    people, travel, settings
):
    """However many notifier triggers a storm queues, two notify at once: the timers worker's
    third process stays free for the sweep."""
    if not settings.REDIS_URL:
        pytest.skip("the slots live in Redis; without it every notifier runs")
    short_targets(people.acme, response=100, resolution=1000)
    report_high(people)
    travel(seconds=60)
    sweep_due()
    client = redis_client()
    with tasks._notifier_slot() as first, tasks._notifier_slot() as second:
        assert first and second
        assert tasks.notify_alerts() == 0  # both taken: this trigger ends at once
        assert SlaAlert.objects.filter(notified_at=None).exists()
    mine = shared_key("notifier", "*")
    assert not list(client.scan_iter(mine))  # both given back
    assert tasks.notify_alerts() > 0
    assert not SlaAlert.objects.filter(notified_at=None).exists()


def test_a_notifier_whose_budget_runs_out_hands_the_rest_to_a_fresh_task(
    people, travel, broker, settings, monkeypatch
):
    short_targets(people.acme, response=100, resolution=1000)
    for _ in range(3):
        report_high(people)
    travel(seconds=90)
    sweep_due()
    monkeypatch.setattr(tasks, "NOTIFY_BATCH", 1)
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 0
    before = queue_depth(TIMERS)
    tasks.notify_alerts()
    assert queue_depth(TIMERS) == before + 1
    assert SlaAlert.objects.filter(notified_at=None).exists()  # left to that task


# --- the dead-man check -------------------------------------------------------------------------


def test_the_dead_man_check_fires_when_no_sweep_finished_for_three_intervals(
    people, travel, client, settings, caplog, monkeypatch
):
    settings.METRICS_TOKEN = "t0ken"
    monkeypatch.setattr(operations, "_last_logged", None)  # logged once a minute per process
    short_targets(people.acme, response=1000, resolution=10000)  # first due 500 s in
    report_high(people)
    interval = settings.SLA_SWEEP_INTERVAL_SECONDS
    travel(seconds=10)
    tasks.sweep_clocks()  # an idle sweep finishes: the heartbeat
    assert SweepStatus.objects.get().completed_at == MONDAY_10 + timedelta(seconds=10)
    travel(seconds=10 + 3 * interval + 1)  # no sweep since, and nothing due yet: quiet
    assert sweep_stalled() == ""
    travel(seconds=600)  # the response warning is due, and no sweep has run for minutes
    assert "clocks due since" in sweep_stalled()
    with caplog.at_level(logging.ERROR, logger="escalation.selectors.operations"):
        body = client.get("/readyz").json()
    assert body["status"] == "degraded"
    assert body["flags"]["sla_sweep"].startswith("degraded: the SLA sweep has last finished")
    assert any("dead-man" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()
    assert "servicedesk_sla_sweep_stalled 1.0" in metrics
    tasks.sweep_clocks()  # the sweep runs again: all clear
    assert client.get("/readyz").json()["status"] == "ok"
    assert (
        "servicedesk_sla_sweep_stalled 0.0"
        in client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()
    )


def test_a_desk_that_never_swept_is_stalled_only_once_its_clocks_waited_three_intervals(
    people, travel, settings
):
    short_targets(people.acme, response=100, resolution=1000)
    report_high(people)
    interval = settings.SLA_SWEEP_INTERVAL_SECONDS
    travel(seconds=50 + 2 * interval)  # due for two intervals, never swept: not yet
    assert sweep_stalled() == ""
    travel(seconds=50 + 3 * interval + 1)
    assert "never finished" in sweep_stalled()
