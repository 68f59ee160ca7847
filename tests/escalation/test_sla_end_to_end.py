"""End to end with a real Celery worker and beat in another process (the shared
`celery_worker_process` fixture), mail at a local SMTP sink; on PostgreSQL and Redis, and in
CI's second leg on the embedded default `make run` serves (SQLite, the file-system broker):
an incident with short targets gets its warnings and breach, the escalation climbs level by
level, and acknowledging an alert stops the climb."""

from __future__ import annotations

import time
from collections.abc import Callable

from escalation.models import (
    AlertKind,
    EscalationRun,
    Notification,
    SlaAlert,
)
from escalation.services.alerts import alert_acknowledge
from tests.escalation.sla_helpers import fast_escalation, report_high, short_targets


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
    levels = [(3, "group_lead", None), (3, "manager", None), (8, "user", people.ada)]
    fast_escalation(people.acme, *levels)


def _sent(kind: str, address: str) -> int:
    mails = Notification.objects.filter(channel="email", kind=kind, address=address, status="sent")
    return mails.count()


def _mails(sink, to: str, words: str) -> int:
    return sum(1 for m in sink.accepted if m["To"] == to and words in m["Subject"])


def test_warnings_breach_and_the_climb_arrive_through_a_real_worker(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    _setup(people)
    fast = {"SLA_SWEEP_INTERVAL_SECONDS": "1", "SLA_AUDIT_INTERVAL_SECONDS": "2"}
    celery_worker_process(env={**mail_to_sink, **fast}, beat=True)
    incident = report_high(people)
    started = time.monotonic()
    alerts = SlaAlert.objects.filter(incident_id=incident.pk)
    response_alerts = alerts.filter(clock__metric="response")
    wait_for("the response breach", lambda: response_alerts.filter(threshold=100).exists())
    assert sorted(response_alerts.values_list("threshold", flat=True)) == [50, 80, 100]
    level_two = wait_for(
        "escalation level 2", lambda: alerts.filter(kind=AlertKind.ESCALATION, level=2).first()
    )
    levels = alerts.filter(kind=AlertKind.ESCALATION).values_list("level", flat=True)
    assert list(levels) == [1, 2]
    # Each step reached its people once, at the mail server, through the worker.
    wait_for("the breach mail", lambda: _sent("sla_breach", "alice@acme.test") == 1)
    assert _sent("sla_warning", "alice@acme.test") == 2  # 50% and 80%
    bell = Notification.objects.filter(channel="inapp", recipient=people.alice, status="sent")
    wait_for("the breach in alice's bell", lambda: bell.filter(kind="sla_breach").count() == 1)
    wait_for("level 1 to the lead", lambda: _sent("sla_escalation", "bob@acme.test") == 1)
    wait_for("level 2 to the manager", lambda: _sent("sla_escalation", "max@acme.test") == 1)
    alert_acknowledge(alert=level_two, actor=people.actor(people.max), via="desk")
    # Level 3 would be due 8 s after level 2; give the worker well past that.
    while time.monotonic() - started < 25:
        time.sleep(0.5)
    assert not alerts.filter(kind=AlertKind.ESCALATION, level=3).exists()
    assert EscalationRun.objects.get(incident=incident).state == "acknowledged"
    assert _sent("sla_escalation", "ada@acme.test") == 0
    breached = "[INC-000001] Acme Corporation: response target breached"
    assert _mails(smtp_sink, "alice@acme.test", breached) == 1
    assert _mails(smtp_sink, "max@acme.test", "escalation level 2") == 1
    assert _mails(smtp_sink, "ada@acme.test", "escalation level") == 0
