"""In Chromium: the admin sets up a calendar on the settings page, and an agent at phone width
reads an incident's timers, opens "Explain this timer" and acknowledges an alert."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from escalation.models import BusinessCalendar
from tests.escalation.sla_helpers import report_high
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page: Page, live_server, user) -> None:
    """A session made by Django's test client, handed to the browser (the login page is
    tested elsewhere)."""
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_an_admin_adds_a_calendar_with_its_hours(page: Page, live_server, people, transactional_db):
    _log_in(page, live_server, people.ada)
    page.goto(f"{live_server.url}/t/acme/settings/sla/calendars/")
    page.get_by_role("button", name="New calendar").or_(
        page.get_by_role("link", name="New calendar")
    ).click()
    page.get_by_label("Name").fill("Night shift")
    page.get_by_label("Time zone").fill("Europe/London")
    page.get_by_label("Monday hours").fill("22:00-24:00")
    page.get_by_label("Tuesday hours").fill("00:00-06:00, 22:00-24:00")
    page.get_by_label("Own days off").fill("2026-12-25 Christmas Day")
    page.get_by_role("button", name="Save calendar").click()
    expect(page.get_by_role("link", name="Night shift")).to_be_visible()
    calendar = BusinessCalendar.objects.get(tenant=people.acme, name="Night shift")
    assert calendar.weekly_hours["1"] == [["00:00", "06:00"], ["22:00", "24:00"]]


def test_an_agent_reads_the_timers_and_acknowledges_at_phone_width(
    page: Page, live_server, people, transactional_db
):
    incident = report_high(people)
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, live_server, people.bob)
    page.goto(f"{live_server.url}/t/acme/sla/incidents/{incident.number}/")
    response_clock = page.get_by_test_id("sla-response")
    expect(response_clock).to_contain_text("left")
    response_clock.get_by_text("Explain this timer").click()
    expect(
        response_clock.get_by_role("cell", name="Around the clock")
        .or_(response_clock.get_by_role("cell", name="Working hours", exact=False))
        .first
    ).to_be_visible()
    page.get_by_role("button", name="Acknowledge").first.click()
    expect(page.get_by_text("Alert acknowledged; the escalation stops here.")).to_be_visible()
    expect(page.get_by_text("Bob Agent via desk")).to_be_visible()
