"""Odd input on the browser pages: each gets a clear answer, never a 500, and loses nothing.

Found by probing every page with characters str.isdigit() accepts and int() refuses ("²"),
numbers of thousands of digits, days at the ends of Python's calendar, e-mail addresses longer
than their column, over-long names and NUL characters in query strings.
"""

from __future__ import annotations

import pytest
from django.core import mail

from escalation.models import BusinessCalendar, SlaPolicy
from incidents import services
from tests.desk.desk_support import report

pytestmark = pytest.mark.django_db

SUPERSCRIPT_TWO = "²"


@pytest.mark.parametrize("since", ["99999999999999999999", SUPERSCRIPT_TWO, "9" * 5000])
def test_the_desk_queue_ignores_a_since_it_cannot_read(people, login, since):
    report(people, "Printer jammed")
    page = login(people.alice).get("/t/acme/desk/", {"queue": "open", "since": since})
    assert page.status_code == 200
    assert "Printer jammed" in page.content.decode()


@pytest.mark.parametrize("dates", [{"reported_to": "9999-12-31"}, {"reported_from": "0001-01-01"}])
def test_a_desk_filter_day_out_of_range_is_refused_with_the_range(people, login, dates):
    page = login(people.alice).get("/t/acme/desk/", {"queue": "open", **dates})
    assert page.status_code == 200
    assert "Pick a day between 1 January 1970 and 31 December 2999." in page.content.decode()


@pytest.mark.parametrize(
    ("date_from", "date_to"), [("9999-01-01", "9999-12-31"), ("0001-01-01", "0001-12-31")]
)
@pytest.mark.parametrize("path", ["/t/acme/dashboards/", "/t/acme/dashboards/export.csv"])
def test_a_dashboard_period_at_the_ends_of_the_calendar_is_not_a_500(
    people, login, path, date_from, date_to
):
    answer = login(people.max).get(
        path, {"period": "custom", "date_from": date_from, "date_to": date_to}
    )
    assert answer.status_code in (200, 400)
    if path.endswith("/"):
        assert "Pick a day between 1 January 1970 and 31 December 2999." in answer.content.decode()


def test_a_bulk_selection_in_odd_digits_is_refused_as_malformed(people, login):
    answer = login(people.alice).post(
        "/t/acme/desk/bulk/", {"action": "assign_me", "incidents": [f"{SUPERSCRIPT_TWO}:1"]}
    )
    assert answer.status_code in (200, 400)
    assert "The selection is malformed; reload the queue." in answer.content.decode()


@pytest.mark.parametrize("typed", [SUPERSCRIPT_TWO, "9" * 5000, "99999:00" + "0" * 5000])
def test_an_sla_target_that_is_not_a_duration_is_refused_and_kept(people, login, typed):
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    form = {
        "calendar": policy.calendar_id,
        "response_seconds": typed,
        "resolution_seconds": "2h",
        "warn_percents": "50, 80",
    }
    page = login(people.ada).post(f"/t/acme/settings/sla/policies/{policy.pk}/", form)
    html = page.content.decode()
    assert page.status_code == 200 and "Write a duration such as" in html
    assert typed[:50] in html
    assert SlaPolicy.objects.get(pk=policy.pk).response_seconds == policy.response_seconds


def test_a_day_off_with_an_overlong_name_is_refused_with_the_limit(people, login):
    form = {
        "name": "Paris office",
        "time_zone": "Europe/Paris",
        "day_0": "09:00-17:00",
        "days_off": "2026-12-24 " + "x" * 300,
    }
    page = login(people.ada).post("/t/acme/settings/sla/calendars/new/", form)
    html = page.content.decode()
    assert page.status_code == 200
    assert "The name of 2026-12-24 is 300 characters long; 100 at most." in html
    assert 'value="Paris office"' in html
    assert not BusinessCalendar.objects.filter(tenant=people.acme, name="Paris office").exists()


def test_an_invitation_to_an_address_longer_than_the_column_is_refused(people, login):
    address = "a" * 250 + "@example.com"
    page = login(people.ada).post("/t/acme/settings/members/", {"email": address, "role": "agent"})
    assert page.status_code == 200
    assert "at most 254 characters" in page.content.decode()
    assert not mail.outbox


def test_a_sign_up_with_an_address_longer_than_the_column_is_refused(people, client):
    people.acme.signup_domains = "acme.test"
    people.acme.save()
    page = client.post("/t/acme/signup/", {"full_name": "Lena", "email": "a" * 250 + "@acme.test"})
    assert page.status_code == 200
    assert "at most 254 characters" in page.content.decode()
    assert not mail.outbox


def test_nul_characters_in_search_boxes_are_dropped(people, login):
    report(people, "Printer jammed")
    members = login(people.ada).get("/t/acme/settings/members/", {"q": "ali\x00ce"})
    assert members.status_code == 200 and "alice@acme.test" in members.content.decode()
    similar = login(people.rita).get("/t/acme/portal/report/similar/", {"title": "print\x00er"})
    assert similar.status_code == 200


def test_a_webhook_on_port_zero_is_refused(people, login):
    page = login(people.ada).post(
        "/t/acme/settings/webhooks/new/",
        {"url": "https://example.com:0/hook", "events": ["incident.created"]},
    )
    assert "port is not a number from 1 to 65535." in page.content.decode()


def test_an_answer_the_portal_can_no_longer_show_is_given_back_to_copy(people, login):
    """Resolved, then reopened by an agent while the reporter typed why it is still broken:
    the refusal says the page changed, and the text comes back for copying."""
    alice = people.actor(people.alice)
    incident = report(people, "VPN drops", category=people.network)  # routed: escalated
    incident = services.incident_accept(incident=incident, actor=alice)
    incident = services.incident_resolve(
        incident=incident, actor=alice, resolution_code="solved-permanently",
        resolution_notes="Renewed the certificate.",
    )  # fmt: skip
    seen = incident.version
    services.incident_reopen(incident=incident, actor=alice, reason="Not done yet")
    page = login(people.rita).post(
        f"/t/acme/portal/incidents/{incident.number}/broken/",
        {"broken-reason": "Dropped again at 10:00 on the 3rd floor", "broken-version": seen},
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="unsent"' in html
    assert "Dropped again at 10:00 on the 3rd floor" in html
