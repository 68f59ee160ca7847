"""Finding the rooms: every settings area is a click away from Settings, each settings page of
every app has the same sub-navigation, and the auto-close window is a setting like the others."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tenancy.models import Tenant
from tests.browser.session import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each area, as the admin clicks it, and the heading of the page it opens.
AREAS = [
    ("General", "General settings"),
    ("Members", "Members"),
    ("Groups", "Assignment groups"),
    ("Categories", "Categories and routing"),
    ("Resolution codes", "Resolution codes"),
    ("Priority matrix", "Priority scale and matrix"),
    ("SLA targets", "SLA targets per priority"),
    ("Business calendars", "Business calendars"),
    ("Escalation policies", "Escalation policies"),
    ("Email intake", "Email intake"),
    ("Unknown senders", "Mail from unknown senders"),
    ("Received mail", "Received mail"),
    ("API keys", "API keys"),
    ("Webhooks", "Webhooks"),
    ("Failed notifications", "Failed notifications"),
    ("Imports", "Imports"),
    ("Audit log", "Audit log"),
]


def _settings_nav(page: Page):
    return page.get_by_role("navigation", name="Settings areas")


def test_ada_reaches_every_settings_area_by_clicking_from_settings(people, live_server, page):
    log_in(page, live_server.url, "ada@acme.test")
    for label, heading in AREAS:
        page.goto(f"{live_server.url}/t/acme/settings/")
        page.get_by_role("link", name=label, exact=True).first.click()
        expect(page.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
        # The same sub-navigation on the area's page, marking where she is.
        current = _settings_nav(page).locator("a[aria-current=page]")
        expect(current).to_have_text(label)


def test_every_area_page_offers_every_other_area(people, live_server, page):
    log_in(page, live_server.url, "ada@acme.test")
    page.goto(f"{live_server.url}/t/acme/settings/sla/calendars/")
    nav = _settings_nav(page)
    for label, _ in AREAS:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    nav.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_role("button", name="Add endpoint").click()
    expect(_settings_nav(page).get_by_role("link", name="Escalation policies")).to_be_visible()


def test_ada_sets_the_auto_close_window_and_a_wrong_value_is_kept_and_explained(
    people, live_server, page
):
    log_in(page, live_server.url, "ada@acme.test")
    page.goto(f"{live_server.url}/t/acme/settings/")
    page.get_by_role("link", name="General", exact=True).first.click()
    window = page.get_by_label(re.compile("Auto-close resolved incidents after"))
    expect(window).to_have_value("3")

    window.fill("45")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("The auto-close window is 1 to 30 business days")).to_be_visible()
    expect(page.get_by_label(re.compile("Auto-close resolved incidents after"))).to_have_value("45")
    assert Tenant.objects.get(pk=people.acme.pk).confirmation_window_days == 3

    page.get_by_label(re.compile("Auto-close resolved incidents after")).fill("5")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Resolved incidents now close after 5 business days.")).to_be_visible()
    assert Tenant.objects.get(pk=people.acme.pk).confirmation_window_days == 5
