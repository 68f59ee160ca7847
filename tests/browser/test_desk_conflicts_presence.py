"""Two agents on one incident in Chromium (issue 14): talk goes through whatever changed
meanwhile, a clash names who changed what in words and keeps the text, and each sees the other
viewing and typing without reloading."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect

from incidents import services
from tests.browser.session import sign_in
from tests.desk.desk_support import routed

pytestmark = pytest.mark.browser


def _sign_in(context: BrowserContext, live_server, user) -> None:
    sign_in(context, live_server.url, user)  # the login page itself is tested elsewhere


@pytest.fixture
def desk(transactional_db, people, live_server, browser: Browser, settings) -> Iterator:
    """Open the desk as a person, each in a browser context of their own."""
    # The live server runs in this process: a presence cache of this test's own, so no other
    # test's people show up (the Redis and file stores are tested in tests/desk).
    settings.CACHES = {
        **settings.CACHES,
        "presence": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"presence-{uuid.uuid4()}",
        },
    }
    contexts: list[BrowserContext] = []

    def open_as(user, incident) -> Page:
        context = browser.new_context()
        contexts.append(context)
        _sign_in(context, live_server, user)
        page = context.new_page()
        page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def _write(page: Page, action: str, label: str, text: str) -> None:
    box = page.locator(f"#action-{action}")
    box.locator("summary").click()
    box.get_by_label(label).fill(text)


def test_an_internal_note_goes_through_after_others_commented_meanwhile(people, desk):
    incident = routed(people, "Printer on fire")
    alice = desk(people.alice, incident)
    services.comment_add(
        incident=incident, actor=people.actor(people.rita), body="It is smoking now"
    )
    bob = desk(people.bob, incident)
    _write(bob, "reply", "Public reply", "Please step away from it.")
    bob.locator("#action-reply").get_by_role("button", name="Public reply").click()
    expect(bob.get_by_text("Reply sent on")).to_be_visible()

    _write(alice, "note", "Internal note (agents only)", "Facilities called, extinguisher on way")
    alice.locator("#action-note").get_by_role("button", name="Internal note").click()
    expect(alice.get_by_text(f"Note added to {incident.reference}")).to_be_visible()
    expect(alice.get_by_role("alert")).to_have_count(0)
    timeline = alice.get_by_label("Timeline")
    expect(timeline.get_by_text("Facilities called, extinguisher on way")).to_be_visible()
    expect(timeline.get_by_text("It is smoking now")).to_be_visible()


def test_a_public_reply_goes_through_after_a_colleague_accepted(people, desk):
    incident = routed(people, "VPN drops every hour")
    alice = desk(people.alice, incident)
    bob = desk(people.bob, incident)
    bob.get_by_role("button", name="Accept").click()
    expect(bob.get_by_test_id("incident-state")).to_have_text("In progress")

    _write(alice, "reply", "Public reply", "We are looking into it.")
    alice.locator("#action-reply").get_by_role("button", name="Public reply").click()
    expect(alice.get_by_text(f"Reply sent on {incident.reference}")).to_be_visible()
    expect(alice.get_by_role("alert")).to_have_count(0)
    expect(alice.get_by_test_id("incident-state")).to_have_text("In progress")


def _change_priority(page: Page, impact: str, urgency: str, reason: str) -> None:
    box = page.locator("#action-priority")
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    box.get_by_label("Impact", exact=True).select_option(label=impact)
    box.get_by_label("Urgency", exact=True).select_option(label=urgency)
    box.get_by_label("Why impact or urgency changes").fill(reason)
    box.get_by_role("button", name="Change impact or urgency").click()


def test_a_priority_change_after_a_colleagues_names_bob_and_keeps_the_text(people, desk):
    incident = routed(people, "Mail down")  # medium impact and urgency
    alice = desk(people.alice, incident)
    bob = desk(people.bob, incident)
    _change_priority(bob, "High", "High", "The whole floor is affected")
    expect(bob.get_by_test_id("incident-priority")).to_have_text("High")

    _change_priority(alice, "Low", "Medium", "Only one user, who has a workaround")
    conflict = alice.get_by_role("alert")
    expect(conflict).to_contain_text("Bob Agent changed the priority to High")
    expect(conflict).not_to_contain_text(re.compile("priority_rank|urgency|sla"))
    expect(alice.get_by_test_id("incident-priority")).to_have_text("High")  # the fresh page
    kept = alice.locator("#action-priority").get_by_label("Why impact or urgency changes")
    expect(kept).to_have_value("Only one user, who has a workaround")
    # Sent again on the fresh version, her change applies.
    _change_priority(alice, "Low", "Medium", "Only one user, who has a workaround")
    expect(alice.get_by_text("priority updated")).to_be_visible()
    expect(alice.get_by_test_id("incident-priority")).to_have_text("Low")


def test_bob_sees_alice_viewing_then_typing_without_reloading(people, desk, settings):
    settings.DESK_PRESENCE_POLL_SECONDS = 1
    incident = routed(people, "Printer on fire")
    bob = desk(people.bob, incident)
    bob.evaluate("window.sameDocument = true")  # gone if the page were reloaded
    presence = bob.get_by_test_id("presence")
    expect(presence).not_to_contain_text("Alice")

    alice = desk(people.alice, incident)
    expect(presence).to_contain_text("Alice Agent is viewing", timeout=10_000)
    expect(alice.get_by_test_id("presence")).to_contain_text("Bob Agent is viewing")

    alice.locator("#action-reply summary").click()
    alice.locator("#action-reply").get_by_label("Public reply").press_sequentially("On my way")
    expect(presence).to_contain_text("Alice Agent is typing a reply", timeout=10_000)
    assert bob.evaluate("window.sameDocument") is True
    expect(presence).not_to_contain_text("Bob Agent")  # never yourself


def test_another_tenants_agent_gets_404_from_the_poll(people, desk, live_server):
    incident = routed(people, "Acme secret")
    desk(people.alice, incident)
    client = Client()
    client.force_login(people.charlie)
    response = client.post(f"/t/acme/desk/{incident.number}/presence/")
    assert response.status_code == 404
    assert b"Alice" not in response.content
