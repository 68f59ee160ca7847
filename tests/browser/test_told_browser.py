"""The people told, in Chromium: a requester answers the desk's question in the portal and the
assignee finds it in the bell; an agent follows an incident and reads its timeline newest
first."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, expect

from incidents import services
from tests.browser.layout import assert_fits
from tests.desk.desk_support import routed

pytestmark = pytest.mark.browser


def sign_in(context: BrowserContext, live_server, user) -> None:
    """Start the browser with the user's session (the login page itself is tested elsewhere)."""
    context.clear_cookies()
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_the_requesters_answer_in_the_portal_rings_the_assignees_bell(
    transactional_db, people, live_server, context: BrowserContext, page: Page
):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=routed(people, "VPN drops"), actor=alice)
    services.incident_hold(
        incident=incident, actor=alice, hold_reason="awaiting_caller", note="Which floor?"
    )
    base = live_server.url

    sign_in(context, live_server, people.rita)
    page.goto(f"{base}/t/acme/portal/incidents/{incident.number}/")
    expect(page.get_by_text("We are waiting for your answer")).to_be_visible()
    page.get_by_label("Your message").fill("Third floor, by the lift.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message was added.")).to_be_visible()

    sign_in(context, live_server, people.alice)
    page.goto(f"{base}/t/acme/desk/")
    expect(page.get_by_test_id("unread-count")).to_have_text("1")
    page.get_by_test_id("notification-bell").click()
    entry = page.get_by_test_id("notification")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Rita Requester answered (work resumes)")
    expect(entry).to_contain_text("Third floor, by the lift.")
    entry.get_by_role("link").click()
    expect(page.get_by_test_id("incident-state")).to_have_text("In progress")
    expect(page.locator(".comment-body", has_text="Third floor, by the lift.")).to_be_visible()
    assert_fits(page)


def test_an_agent_follows_an_incident_and_reads_its_timeline_newest_first(
    transactional_db, people, live_server, context: BrowserContext, page: Page
):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=routed(people, "Printer jams"), actor=alice)
    services.comment_add(incident=incident, actor=alice, body="Ordered a new roller.")

    sign_in(context, live_server, people.bob)
    page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    follow = page.get_by_role("button", name="Follow", exact=True)
    follow.click()
    expect(page.get_by_role("button", name="Following", exact=True)).to_be_visible()
    expect(page.get_by_test_id("followers")).to_have_text("Followed by Bob Agent")
    page.reload()  # stored, not only drawn
    expect(page.get_by_role("button", name="Following", exact=True)).to_be_visible()

    timeline = page.get_by_test_id("desk-timeline").locator(":scope > li")
    expect(timeline.first).to_contain_text("Rita Requester reported it")
    page.get_by_role("link", name="Show newest first").click()
    expect(page).to_have_url(re.compile(r"\?order=newest$"))
    expect(timeline.first).to_contain_text("Ordered a new roller.")
    expect(page.get_by_test_id("timeline-order")).to_contain_text("Newest first")
    page.get_by_role("link", name="Show oldest first").click()
    expect(timeline.first).to_contain_text("Rita Requester reported it")
