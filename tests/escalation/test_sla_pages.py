"""The SLA pages: the tenant admin's calendars, targets and escalation policies; an incident's
clocks and alerts on the desk; acknowledging from the desk and from the signed email link."""

from __future__ import annotations

import pytest
import time_machine

from escalation.models import AlertKind, BusinessCalendar, EscalationPolicy, SlaAlert, SlaPolicy
from escalation.services.alerts import ack_token
from tests.concurrency import report_in_flight
from tests.escalation.sla_helpers import MONDAY_10, report_high

pytestmark = pytest.mark.django_db

BASE = "/t/acme/settings/sla"


def _calendar_form(**changes) -> dict:
    data = {
        "name": "Paris office",
        "time_zone": "Europe/Paris",
        "holiday_country": "FR",
        "days_off": "2026-12-24 Christmas Eve",
        "day_0": "09:00-12:00, 13:00-18:00",
        "day_1": "09:00-18:00",
        "day_4": "09:00-16:00",
    }
    return {**data, **changes}


def test_an_admin_adds_a_calendar_with_hours_and_days_off(people, login):
    client = login(people.ada)
    response = client.post(f"{BASE}/calendars/new/", _calendar_form())
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(tenant=people.acme, name="Paris office")
    assert calendar.weekly_hours["0"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert calendar.weekly_hours["2"] == []
    assert list(calendar.days_off.values_list("name", flat=True)) == ["Christmas Eve"]
    page = client.get(f"{BASE}/calendars/").content.decode()
    assert "Paris office" in page and "Europe/Paris" in page


def test_bad_calendar_input_is_explained_and_what_was_typed_is_kept(people, login):
    client = login(people.ada)
    response = client.post(
        f"{BASE}/calendars/new/", _calendar_form(time_zone="Mars/Olympus", day_1="18:00-09:00")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a time zone. Use a name such as Europe/London" in page
    assert "Each span ends after it starts" in page
    assert 'value="Mars/Olympus"' in page and "Paris office" in page
    assert not BusinessCalendar.objects.filter(name="Paris office").exists()


def test_an_unknown_holiday_region_is_explained_on_the_page(people, login):
    """The service checks the region (the API relies on the same check), so the page shows the
    refusal instead of failing when the holiday list is first read."""
    client = login(people.ada)
    response = client.post(f"{BASE}/calendars/new/", _calendar_form(holiday_subdivision="Atlantis"))
    assert response.status_code == 200
    assert "FR has no region &#x27;Atlantis&#x27;" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Paris office").exists()


def test_a_calendar_without_working_hours_is_refused(people, login):
    client = login(people.ada)
    response = client.post(f"{BASE}/calendars/new/", _calendar_form(day_0="", day_1="", day_4=""))
    assert "Give the calendar some working hours." in response.content.decode()


def test_an_admin_sets_targets_to_the_second(people, login):
    client = login(people.ada)
    page = client.get(f"{BASE}/policies/").content.decode()
    assert "30 min" in page and "8 h" in page  # the high level's defaults, in words
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    response = client.post(
        f"{BASE}/policies/{policy.pk}/",
        {
            "calendar": policy.calendar_id,
            "response_seconds": "1m 30s",
            "resolution_seconds": "2h",
            "warn_percents": "25, 75",
            "pause_on": ["awaiting_caller", "awaiting_vendor"],
        },
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.response_seconds, policy.resolution_seconds) == (90, 7200)
    assert policy.warn_percents == [25, 75]
    assert policy.pause_on == ["awaiting_caller", "awaiting_vendor"]


def test_a_target_that_is_not_a_duration_is_refused(people, login):
    client = login(people.ada)
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    response = client.post(
        f"{BASE}/policies/{policy.pk}/",
        {
            "calendar": policy.calendar_id,
            "response_seconds": "soon",
            "resolution_seconds": "2h",
            "warn_percents": "50, 80",
        },
    )
    assert "Write a duration such as" in response.content.decode()
    assert 'value="soon"' in response.content.decode()


def test_an_admin_writes_an_escalation_policy_for_a_group(people, login):
    client = login(people.ada)
    response = client.post(
        f"{BASE}/escalation/new/",
        {
            "name": "Network nights",
            "group": people.group.pk,
            "repeat_count": "1",
            "is_active": "on",
            "levels-TOTAL_FORMS": "3",
            "levels-INITIAL_FORMS": "0",
            "levels-0-after_seconds": "45s",
            "levels-0-notify": "assignee",
            "levels-1-after_seconds": "10m",
            "levels-1-notify": "user",
            "levels-1-user": people.max.pk,
            "levels-2-after_seconds": "",
            "levels-2-notify": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    policy = EscalationPolicy.objects.get(tenant=people.acme, group=people.group)
    levels = list(policy.levels.values_list("position", "after_seconds", "notify", "user"))
    assert levels == [(1, 45, "assignee", None), (2, 600, "user", people.max.pk)]
    assert "Network nights" in client.get(f"{BASE}/escalation/").content.decode()


@pytest.mark.parametrize("who", ["alice", "rita", "max", "charlie"])
def test_only_the_tenant_admin_sees_the_sla_settings(people, login, who):
    client = login(getattr(people, who))
    for path in ("calendars/", "policies/", "escalation/", "calendars/new/"):
        assert client.get(f"{BASE}/{path}").status_code == 404


def test_the_desk_sees_an_incidents_clocks_and_alerts_and_a_requester_gets_404(people, login):
    # In working hours with time standing still: the response clock has spent nothing yet.
    # (Left to the wall clock, it read "29 min 59 s left" whenever the suite ran in the
    # calendar's working hours.)
    with time_machine.travel(MONDAY_10, tick=False):
        incident = report_high(people)
        page = login(people.alice).get(f"/t/acme/sla/incidents/{incident.number}/").content.decode()
    assert "Explain this timer" in page and "Response" in page and "30 min left" in page
    assert "Escalated to you" in page  # the alert of the routing escalation
    assert login(people.rita).get(f"/t/acme/sla/incidents/{incident.number}/").status_code == 404
    assert login(people.charlie).get(f"/t/acme/sla/incidents/{incident.number}/").status_code == 404


def test_acknowledging_from_the_desk_shows_who_did(people, login):
    incident = report_high(people)
    alert = SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ASSIGNED)
    client = login(people.bob)
    response = client.post(f"/t/acme/sla/alerts/{alert.pk}/ack/", follow=True)
    page = response.content.decode()
    assert "Alert acknowledged" in page and "Bob Agent via desk" in page
    again = client.post(f"/t/acme/sla/alerts/{alert.pk}/ack/", follow=True).content.decode()
    assert "already acknowledged by Bob Agent" in again


def test_the_signed_link_asks_first_then_acknowledges_as_its_reader(people, client):
    incident = report_high(people)
    alert = SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ASSIGNED)
    url = f"/t/acme/sla/ack/{ack_token(alert, people.bob)}/"
    assert "Acknowledge the alert on INC-000001" in client.get(url).content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None  # a mail scanner's GET changes nothing
    page = client.post(url).content.decode()
    assert "Acknowledged, Bob Agent" in page
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledged_via) == (people.bob, "email link")


def test_a_forged_or_foreign_link_is_a_404(people, client):
    incident = report_high(people)
    alert = SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ASSIGNED)
    assert client.get(f"/t/acme/sla/ack/{ack_token(alert, people.bob)}x/").status_code == 404
    assert client.get(f"/t/globex/sla/ack/{ack_token(alert, people.bob)}/").status_code == 404
    assert client.get(f"/t/acme/sla/ack/{ack_token(alert, people.rita)}/").status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_save_that_cannot_wait_for_the_reports_in_flight_keeps_what_was_typed(
    people, login, settings
):
    settings.CONFIG_LOCK_WAIT_MS = 200
    client = login(people.ada)
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    form = {
        "calendar": policy.calendar_id,
        "response_seconds": "1m 30s",
        "resolution_seconds": "2h",
        "warn_percents": "25, 75",
    }
    with report_in_flight(people.acme.pk):
        page = client.post(f"{BASE}/policies/{policy.pk}/", form).content.decode()
    assert "Reports are being filed right now" in page and "Try again in a moment." in page
    assert 'value="1m 30s"' in page and 'value="25, 75"' in page
    assert SlaPolicy.objects.get(pk=policy.pk).response_seconds == policy.response_seconds
