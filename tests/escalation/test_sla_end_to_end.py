"""End to end with a real Celery worker and beat in another process, on PostgreSQL and Redis:
an incident with short targets gets its warnings and breach, the escalation climbs level by
level, and acknowledging an alert stops the climb."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from escalation.models import (
    AlertKind,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    SlaAlert,
)
from escalation.services.alerts import alert_acknowledge
from escalation.models import Notification
from tests.escalation.sla_helpers import report_high, short_targets
from tests.escalation.worker import celery_worker_process

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def wait_for(what: str, check: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _setup(people) -> None:
    short_targets(people.acme, response=6, resolution=60)
    people.group.lead = people.bob
    people.group.save()
    EscalationPolicy.objects.filter(tenant=people.acme).delete()
    policy = EscalationPolicy.objects.create(tenant=people.acme, name="Fast")
    for position, (after, notify, user) in enumerate(
        [(3, "group_lead", None), (3, "manager", None), (8, "user", people.ada)], start=1
    ):
        EscalationLevel.objects.create(tenant=people.acme, policy=policy, position=position,
                                       after_seconds=after, notify=notify, user=user)  # fmt: skip


def _sent(kind: str, address: str) -> int:
    return Notification.objects.filter(kind=kind, address=address, status="sent").count()


def test_warnings_breach_and_the_climb_arrive_through_a_real_worker(people, transactional_db, tmp_path):
    _setup(people)
    with celery_worker_process(tmp_path, SLA_SWEEP_INTERVAL_SECONDS="1", SLA_AUDIT_INTERVAL_SECONDS="2"):
        incident = report_high(people)
        started = time.monotonic()
        alerts = SlaAlert.objects.filter(incident_id=incident.pk)
        response_alerts = alerts.filter(clock__metric="response")
        wait_for("the response breach", lambda: response_alerts.filter(threshold=100).exists())
        assert sorted(response_alerts.values_list("threshold", flat=True)) == [50, 80, 100]
        level_two = wait_for(
            "escalation level 2",
            lambda: alerts.filter(kind=AlertKind.ESCALATION, level=2).first(),
        )
        assert list(alerts.filter(kind=AlertKind.ESCALATION).values_list("level", flat=True)) == [1, 2]
        # Each step reached its people once, by mail the worker sent.
        wait_for("the breach mail", lambda: _sent("sla_breach", "alice@acme.test") == 1)
        assert _sent("sla_warning", "alice@acme.test") == 2  # 50% and 80%
        wait_for("level 1 to the lead", lambda: _sent("sla_escalation", "bob@acme.test") == 1)
        wait_for("level 2 to the manager", lambda: _sent("sla_escalation", "max@acme.test") == 1)
        alert_acknowledge(alert=level_two, actor=people.actor(people.max), via="desk")
        # Level 3 would be due 8 s after level 2; give the worker well past that.
        while time.monotonic() - started < 25:
            time.sleep(0.5)
        assert not alerts.filter(kind=AlertKind.ESCALATION, level=3).exists()
        assert EscalationRun.objects.get(incident=incident).state == "acknowledged"
        assert _sent("sla_escalation", "ada@acme.test") == 0
    mails = list((tmp_path / "mail").glob("*.log"))
    text = "".join(p.read_text() for p in mails)
    assert "INC-000001: response target breached" in text
    assert "escalation level 2" in text
