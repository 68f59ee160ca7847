"""Where each role lands after logging in; the desk's incident page leads to its SLA and alerts;
a reopened incident no longer shows its old resolution as the current one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from incidents import services
from tests.browser.session import log_in
from tests.desk.desk_support import routed
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("email", "lands_on"),
    [
        ("alice@acme.test", r"/t/acme/desk/$"),
        ("ada@acme.test", r"/t/acme/desk/$"),
        ("max@acme.test", r"/t/acme/dashboards/$"),
        ("rita@acme.test", r"/t/acme/portal/$"),
    ],
)
def test_each_role_lands_where_it_works_after_logging_in(
    people, live_server, page, email, lands_on
):
    log_in(page, live_server.url, email)
    expect(page).to_have_url(re.compile(lands_on))


def test_a_link_from_a_mail_still_wins_over_the_landing_page(people, live_server, page):
    incident = routed(people, "VPN drops every hour")
    page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    page.get_by_label("Email").fill("alice@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/t/acme/desk/{incident.number}/$"))


def test_the_incident_page_leads_to_its_sla_and_alerts(people, live_server, page):
    incident = routed(people, "VPN drops every hour")
    log_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    page.get_by_role("link", name="SLA and alerts").click()
    expect(
        page.get_by_role("heading", name=f"{incident.reference}: SLA and alerts")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    page.get_by_role("link", name=f"Back to {incident.reference}").click()
    expect(page.get_by_test_id("incident-state")).to_be_visible()


def test_a_reopened_incident_shows_its_resolution_as_the_previous_one(people, live_server, page):
    incident = routed(people, "Printer jammed again")
    incident = services.incident_resolve_first_contact(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="known-error",
        resolution_notes="Cleared the paper path.",
    )
    services.incident_reopen(
        incident=incident, actor=people.actor(people.rita), reason="It jams again."
    )

    log_in(page, live_server.url, "alice@acme.test")
    page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    resolution = page.get_by_test_id("resolution")
    expect(resolution).to_contain_text("Previous resolution")
    expect(resolution).to_contain_text("no longer current")
    expect(page.get_by_test_id("resolution-notes")).to_contain_text(
        "Notes of the previous resolution"
    )
    expect(page.get_by_text("Resolution notes", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Log out").click()
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/t/acme/portal/incidents/{incident.number}/")
    expect(page.get_by_test_id("incident-state")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Resolution:"))).to_have_count(0)
