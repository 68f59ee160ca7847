"""An escalation level that names an on-call schedule pages whoever is on call when the level
fires; with nobody on call, the schedule's fallback, and the timeline says so. Acknowledging
still stops the climb."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from escalation.models import EscalationLevel, Notification, NotifyKind, RunState, SlaAlert
from escalation.services.alerts import alert_acknowledge, alerts_notify_pending
from escalation.services.sweep import sweep_due
from incidents.models import IncidentEvent
from oncall import services as oncall_services
from tests.escalation.sla_helpers import fast_escalation, report_high
from tests.escalation.test_escalation_recipients import _told
from tests.oncall.helpers import daily_schedule, empty_schedule


def _paging(people, schedule, *more):
    """The desk's policy: after a minute, whoever is on call in `schedule`; then `more`."""
    fast_escalation(people.acme, (60, NotifyKind.SCHEDULE, None), *more)
    EscalationLevel.objects.filter(tenant=people.acme, position=1).update(schedule=schedule)


def test_a_level_naming_a_schedule_pages_whoever_is_on_call_as_it_fires(people):
    schedule = daily_schedule(people, people.alice, name="Network")
    _paging(people, schedule)
    incident = report_high(people)
    _told()  # the routing's alert to the group
    # Bob takes the shift over before the level fires: he is the one paged.
    now = timezone.now()
    oncall_services.override_add(
        actor=people.actor(people.bob),
        schedule=schedule,
        user_id=people.bob.pk,
        starts_at=now + timedelta(seconds=30),
        ends_at=now + timedelta(hours=1),
    )
    sweep_due(now=now + timedelta(minutes=2))
    alerts_notify_pending()
    mail = Notification.objects.get(kind="sla_escalation", channel="email")
    assert mail.address == "bob@acme.test"
    assert "Paged through an on-call schedule: on call in Network: Bob Agent." in mail.body
    assert _told() == ["bob@acme.test"]
    event = IncidentEvent.objects.filter(incident=incident, data__level=1).get()
    assert "on call in Network: Bob Agent" in event.reason


def test_with_nobody_on_call_the_schedules_fallback_is_paged_and_the_timeline_says_so(people):
    schedule = empty_schedule(people, name="Duty managers", fallback=people.max)
    _paging(people, schedule)
    incident = report_high(people)
    _told()
    sweep_due(now=timezone.now() + timedelta(minutes=2))
    assert _told() == ["max@acme.test"]
    alert = SlaAlert.objects.get(incident=incident, level=1)
    assert alert.notify == NotifyKind.SCHEDULE and alert.notify_user_id == people.max.pk
    event = IncidentEvent.objects.filter(incident=incident, data__level=1).get()
    assert "nobody on call in Duty managers: its fallback Max Manager" in event.reason


def test_acknowledging_a_schedules_page_stops_the_climb(people):
    schedule = daily_schedule(people, people.bob, name="Network")
    _paging(people, schedule, (60, NotifyKind.MANAGER, None))
    incident = report_high(people)
    _told()
    sweep_due(now=timezone.now() + timedelta(seconds=90))
    assert _told() == ["bob@acme.test"]
    alert = SlaAlert.objects.get(incident=incident, level=1)
    alert_acknowledge(alert=alert, actor=people.actor(people.bob))
    sweep_due(now=timezone.now() + timedelta(minutes=10))
    assert _told() == []
    assert incident.escalation_runs.get().state == RunState.ACKNOWLEDGED


def test_an_admin_writes_a_level_that_pages_a_schedule_on_the_settings_page(people, login):
    schedule = daily_schedule(people, people.alice, name="Network")
    client = login(people.ada)
    form = {
        "name": "On call first",
        "group": people.group.pk,
        "repeat_count": "0",
        "is_active": "on",
        "levels-TOTAL_FORMS": "2",
        "levels-INITIAL_FORMS": "0",
        "levels-0-after_seconds": "5m",
        "levels-0-notify": "schedule",
        "levels-0-schedule": schedule.pk,
        "levels-1-after_seconds": "10m",
        "levels-1-notify": "group_lead",
    }
    answer = client.post("/t/acme/settings/sla/escalation/new/", form)
    assert answer.status_code == 302, answer.content.decode()[-2000:]
    level = EscalationLevel.objects.get(tenant=people.acme, position=1, policy__name=form["name"])
    assert (level.notify, level.schedule) == ("schedule", schedule)
    listed = client.get("/t/acme/settings/sla/escalation/").content.decode()
    assert "Whoever is on call in a schedule (Network)" in listed
    # A schedule level without its schedule is refused beside the level, the form kept.
    del form["levels-0-schedule"]
    form["name"] = "Forgot the schedule"
    refused = client.post("/t/acme/settings/sla/escalation/new/", form)
    assert refused.status_code == 200  # the page again, as the escalation form answers refusals
    assert not EscalationLevel.objects.filter(policy__name="Forgot the schedule").exists()
    assert "Name the schedule whose on-call person the level pages." in refused.content.decode()
