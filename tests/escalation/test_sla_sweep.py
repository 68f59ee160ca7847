"""The sweep, the notifier, the escalation climb, the auditor and auto-close, driven in-process
at set instants (the worker process tests are in test_sla_end_to_end.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.models import (
    AlertKind,
    BusinessCalendar,
    EscalationPolicy,
    EscalationRun,
    RunState,
    SlaAlert,
)
from escalation.services.alerts import alert_acknowledge, alerts_notify_pending
from escalation.services.autoclose import incidents_auto_close
from escalation.services.sweep import clocks_audit, sweep_due
from incidents import services
from incidents.models import EventKind, IncidentEvent
from tests.escalation.sla_helpers import (
    MONDAY_10,
    fast_escalation,
    report_high,
    response,
    short_targets,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(people):
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield lambda **delta: traveller.move_to(MONDAY_10 + timedelta(**delta))


def _thresholds(incident) -> list[tuple[str, int | None]]:
    alerts = SlaAlert.objects.filter(incident_id=incident.pk, clock__isnull=False)
    return sorted(alerts.values_list("clock__metric", "threshold"))


def test_the_sweep_writes_each_warning_and_the_breach_once(people, travel):
    short_targets(people.acme, response=100, resolution=1000)
    incident = report_high(people)
    travel(seconds=55)
    assert sweep_due().alerts == 1
    assert _thresholds(incident) == [("response", 50)]
    travel(seconds=101)
    sweep_due()
    sweep_due()  # a second sweep finds nothing more
    assert _thresholds(incident) == [("response", 50), ("response", 80), ("response", 100)]
    clock = response(incident)
    assert (clock.state, clock.breached_at) == ("breached", MONDAY_10 + timedelta(seconds=100))
    assert clock.next_check_at is None


def test_a_beat_down_for_an_hour_gets_every_missed_alert_exactly_once(people, travel):
    short_targets(people.acme, response=60, resolution=600)
    incidents = [report_high(people) for _ in range(3)]
    travel(hours=1)
    result = sweep_due(batch_size=2)  # several batches
    # Three warnings-or-breach per clock, and the two levels of the default escalation policy.
    assert result.alerts == 3 * 6 + 3 * 2
    assert sweep_due().alerts == 0
    for incident in incidents:
        assert _thresholds(incident) == [
            ("resolution", 50),
            ("resolution", 80),
            ("resolution", 100),
            ("response", 50),
            ("response", 80),
            ("response", 100),
        ]


def test_a_paused_clock_is_not_swept_and_a_due_warning_is_kept_at_the_pause(people, travel):
    short_targets(people.acme, response=100, resolution=1000)
    incident = services.incident_accept(
        incident=report_high(people), actor=people.actor(people.alice)
    )
    travel(seconds=600)  # the 50% warning of the resolution clock is due, but no sweep ran yet
    services.incident_hold(
        incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_caller"
    )
    assert _thresholds(incident) == [("resolution", 50)]  # settled at the pause, not lost
    travel(hours=5)
    assert sweep_due().alerts == 0


def test_the_notifier_mails_each_alert_once_and_writes_an_internal_event(
    people, travel, django_capture_on_commit_callbacks
):
    short_targets(people.acme, response=100, resolution=1000)
    incident = report_high(people)  # routed to the group: alice and bob
    mail.outbox.clear()
    travel(seconds=60)
    sweep_due()
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_notify_pending() == 2  # the escalation alert and the 50% warning
        assert alerts_notify_pending() == 0
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert (
        "alice@acme.test",
        "[INC-000001] Acme Corporation: 50% of the response target used",
    ) in subjects
    assert ("bob@acme.test", "[INC-000001] Acme Corporation: escalated to your group") in subjects
    assert len(subjects) == 4
    warning = next(m for m in mail.outbox if "50%" in m.subject)
    assert "/sla/ack/" in warning.body  # the signed acknowledgement link
    event = IncidentEvent.objects.filter(incident=incident, kind=EventKind.SLA).last()
    assert event.public is False and event.data["recipients"] == [
        "alice@acme.test",
        "bob@acme.test",
    ]


def _policy(people, *levels, repeat=0) -> EscalationPolicy:
    return fast_escalation(people.acme, *levels, repeat=repeat)


def _levels(incident) -> list[tuple[int | None, int | None]]:
    alerts = SlaAlert.objects.filter(incident_id=incident.pk, kind=AlertKind.ESCALATION)
    return list(alerts.order_by("repeat", "level").values_list("level", "repeat"))


def test_the_climb_goes_level_by_level_and_repeats(people, travel):
    people.group.lead = people.bob
    people.group.save()
    _policy(people, (60, "group_lead", None), (120, "manager", None), repeat=1)
    incident = report_high(people)
    travel(seconds=59)
    sweep_due()
    assert _levels(incident) == []
    travel(seconds=60)
    sweep_due()
    assert _levels(incident) == [(1, 0)]
    travel(seconds=180)
    sweep_due()
    assert _levels(incident) == [(1, 0), (2, 0)]
    travel(hours=2)
    sweep_due()
    assert _levels(incident) == [(1, 0), (2, 0), (1, 1), (2, 1)]
    assert EscalationRun.objects.get(incident=incident).state == RunState.FINISHED


def test_accepting_stops_the_climb(people, travel):
    _policy(people, (60, "group_lead", None), (60, "manager", None))
    incident = report_high(people)
    travel(seconds=61)
    sweep_due()
    services.incident_accept(incident=incident, actor=people.actor(people.alice))
    travel(hours=1)
    sweep_due()
    assert _levels(incident) == [(1, 0)]
    assert EscalationRun.objects.get(incident=incident).state == RunState.ACKNOWLEDGED


def test_acknowledging_an_alert_stops_the_climb_and_silences_the_steps_not_yet_sent(people, travel):
    _policy(people, (60, "manager", None), (60, "user", people.ada))
    incident = report_high(people)
    travel(seconds=61)
    sweep_due()
    alert = SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ESCALATION)
    alert_acknowledge(alert=alert, actor=people.actor(people.max), via="desk")
    travel(hours=1)
    sweep_due()
    assert _levels(incident) == [(1, 0)]
    run = EscalationRun.objects.get(incident=incident)
    assert (run.state, run.acknowledged_by, run.acknowledged_via) == (
        "acknowledged",
        people.max,
        "desk",
    )
    event = IncidentEvent.objects.filter(incident=incident, kind=EventKind.SLA).last()
    assert "acknowledged" in event.reason


def test_a_requester_cannot_acknowledge_an_alert(people, travel):
    from tenancy.errors import NotAllowed

    incident = report_high(people)
    alert = SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ASSIGNED)
    with pytest.raises(NotAllowed):
        alert_acknowledge(alert=alert, actor=people.actor(people.rita))


def test_the_auditor_flags_a_clock_overdue_without_its_alert_and_readyz_shows_it(
    people, travel, client, settings
):
    short_targets(people.acme, response=100, resolution=1000)
    report_high(people)
    alerts_notify_pending()  # the escalation alert went out
    travel(seconds=90)
    assert clocks_audit().overdue == 0  # due, but within one sweep interval plus grace
    travel(seconds=51 + settings.SLA_SWEEP_INTERVAL_SECONDS + settings.SLA_AUDIT_GRACE_SECONDS)
    status = clocks_audit()
    assert status.overdue >= 1 and "clocks" in status.detail
    body = client.get("/readyz").json()
    assert body["flags"]["sla_audit"].startswith("error: overdue without alert")
    sweep_due()
    alerts_notify_pending()
    assert clocks_audit().overdue == 0
    assert client.get("/readyz").json()["flags"]["sla_audit"] == "ok"


def test_a_resolved_incident_is_closed_by_the_system_after_three_business_days(people, travel):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=report_high(people), actor=alice)
    services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Router replaced",
    )
    travel(days=2, hours=23)  # Thursday 09:00: two business days only
    assert incidents_auto_close() == 0
    travel(days=3)  # Thursday 10:00
    assert incidents_auto_close() == 1
    incident.refresh_from_db()
    assert incident.state == "closed"
    event = incident.events.filter(transition="close").get()
    assert (event.actor_kind, event.actor_name) == ("system", "Confirmation window")


def test_a_warning_rings_the_bell_and_reaches_a_subscribed_webhook_once(people, travel):
    from escalation.models import Notification, WebhookEndpoint

    short_targets(people.acme, response=100, resolution=1000)
    WebhookEndpoint.objects.create(
        tenant=people.acme, url="https://hooks.example.test/desk", events=["sla.warning"]
    )
    incident = report_high(people)
    travel(seconds=60)
    sweep_due()
    alerts_notify_pending()
    alerts_notify_pending()
    bell = Notification.objects.filter(incident=incident, channel="inapp", kind="sla_warning")
    assert sorted(bell.values_list("recipient__email", flat=True)) == [
        "alice@acme.test",
        "bob@acme.test",
    ]
    assert {row.link for row in bell} == {f"/t/acme/sla/incidents/{incident.number}/"}
    hooks = Notification.objects.filter(incident=incident, channel="webhook")
    assert list(hooks.values_list("kind", flat=True)) == ["sla.warning"]
    assert '"threshold": 50' in hooks.get().body


def test_a_batch_of_climbs_on_one_calendar_reads_its_days_off_once(people, travel):
    policy = _policy(people, (60, "group_lead", None), (120, "manager", None))
    policy.calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    policy.save()
    incidents = [report_high(people) for _ in range(3)]
    travel(seconds=200)  # Monday 10:03, in working hours: both levels due for each
    with CaptureQueriesContext(connection) as queries:
        sweep_due()
    assert [_levels(incident) for incident in incidents] == [[(1, 0), (2, 0)]] * 3
    days_off = [q["sql"] for q in queries if "escalation_calendarholiday" in q["sql"]]
    assert len(days_off) == 1, days_off
