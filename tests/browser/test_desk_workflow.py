"""The agent desk in Chromium: find, accept, hold, resume, resolve; a stale page; another
tenant; the live queue and the keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from incidents import services
from tests.browser.session import sign_in
from tests.desk.desk_support import report, routed

pytestmark = pytest.mark.browser


def _sign_in(context: BrowserContext, live_server, user) -> None:
    sign_in(context, live_server.url, user)  # the login page itself is tested elsewhere


@pytest.fixture
def agent_page(transactional_db, people, live_server, context, page):
    def open_as(user) -> Page:
        _sign_in(context, live_server, user)
        return page

    return open_as


def test_an_agent_takes_a_new_incident_from_unassigned_to_resolved(people, live_server, agent_page):
    incident = routed(people, "VPN drops every hour")
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/")
    page.get_by_role("link", name=re.compile(r"^Unassigned")).click()
    expect(page.get_by_role("heading", name="Unassigned")).to_be_visible()
    page.get_by_role("link", name=incident.title).click()

    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_text("is yours: diagnosis started")).to_be_visible()
    expect(page.get_by_test_id("incident-state")).to_have_text("In progress")

    hold = page.locator("#action-hold")
    hold.get_by_text("Put on hold").first.click()
    hold.get_by_label("Waiting for").select_option(label="Awaiting a vendor")
    hold.get_by_label("Note for the hold").fill("Vendor ticket 4711")
    hold.get_by_role("button", name="Put on hold").click()
    expect(page.get_by_test_id("incident-state")).to_have_text("On hold")
    expect(page.get_by_text("Vendor ticket 4711")).to_be_visible()

    resume = page.locator("#action-resume")
    resume.get_by_text("Resume").first.click()
    resume.get_by_role("button", name="Resume").click()
    expect(page.get_by_test_id("incident-state")).to_have_text("In progress")

    resolve = page.locator("#action-resolve")
    resolve.get_by_text("Resolve").first.click()
    resolve.get_by_label("Resolution code").select_option(label="Solved (permanently)")
    resolve.get_by_label("Resolution notes").fill("Replaced the VPN concentrator's firmware.")
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("incident-state")).to_have_text("Resolved")
    expect(page.get_by_text("Replaced the VPN concentrator's firmware.").first).to_be_visible()


def test_a_second_agents_stale_page_gets_the_conflict_and_keeps_the_text(
    people, live_server, agent_page, browser
):
    incident = routed(people, "Printer on fire")
    url = f"{live_server.url}/t/acme/desk/{incident.number}/"
    bob_context = browser.new_context()
    try:
        _sign_in(bob_context, live_server, people.bob)
        bob = bob_context.new_page()
        bob.goto(url)
        alice = agent_page(people.alice)
        alice.goto(url)
        alice.get_by_role("button", name="Accept").click()
        expect(alice.get_by_test_id("incident-state")).to_have_text("In progress")

        # A transition clashes with hers (a reply would not: tests/browser/
        # test_desk_conflicts_presence.py).
        hold = bob.locator("#action-hold")
        hold.get_by_text("Put on hold").first.click()
        hold.get_by_label("Waiting for").select_option(label="Awaiting a vendor")
        hold.get_by_label("Note for the hold").fill("Please switch it off and step away.")
        hold.get_by_role("button", name="Put on hold").click()
        expect(bob.get_by_role("alert")).to_contain_text(
            "changed by someone else since you opened it: Alice Agent moved it to in progress"
        )
        expect(bob.get_by_test_id("incident-state")).to_have_text("In progress")
        kept = bob.locator("#action-hold").get_by_label("Note for the hold")
        expect(kept).to_have_value("Please switch it off and step away.")
        # Sending again, now on the fresh version, goes through.
        bob.locator("#action-hold").get_by_role("button", name="Put on hold").click()
        expect(bob.get_by_test_id("incident-state")).to_have_text("On hold")
    finally:
        bob_context.close()


def test_an_agent_of_another_tenant_gets_404(people, live_server, agent_page):
    incident = routed(people, "Acme secret")
    page = agent_page(people.charlie)
    response = page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    assert response.status == 404
    expect(page.get_by_text("Acme secret")).to_have_count(0)


def test_the_queue_refreshes_without_losing_place_selection_or_typed_filter(
    people, live_server, agent_page, settings
):
    settings.DESK_POLL_SECONDS = 1
    first = routed(people, "Existing one")
    for n in range(30):
        routed(people, f"Filler {n}")
    page = agent_page(people.alice)
    page.set_viewport_size({"width": 1000, "height": 500})
    page.goto(f"{live_server.url}/t/acme/desk/?queue=open")
    page.get_by_label(first.reference, exact=True).check()
    page.get_by_label("Search").fill("half-typ")
    page.mouse.wheel(0, 400)
    # Polled from here (wait_for_function evaluates a string in the page, which the CSP refuses)
    # until the scroll has come to rest.
    seen = [-1]
    for _ in range(50):
        page.wait_for_timeout(100)
        seen.append(page.evaluate("window.scrollY"))
        if seen[-1] > 300 and seen[-1] == seen[-2]:
            break
    assert seen[-1] > 300
    scrolled = page.evaluate("window.scrollY")

    urgent = report(people, "Brand new and urgent", impact="high", urgency="high")
    new_row = page.locator(f'tr[data-number="{urgent.number}"]')
    expect(new_row).to_be_visible(timeout=10_000)
    expect(new_row.get_by_text("New", exact=True)).to_be_visible()
    expect(page.get_by_label(first.reference, exact=True)).to_be_checked()
    expect(page.get_by_label("Search")).to_have_value("half-typ")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 50
    expect(page.locator('[data-queue="open"]')).to_have_text("32")


def test_keyboard_moves_opens_and_accepts(people, live_server, agent_page):
    routed(people, "First in line", impact="high", urgency="high")
    second = routed(people, "Second in line")
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/?queue=unassigned")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("tr.current")).to_have_attribute("data-number", str(second.number))
    page.keyboard.press("k")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/desk/{second.number}/$"))
    page.keyboard.press("a")
    expect(page.get_by_test_id("incident-state")).to_have_text("In progress")
    page.keyboard.press("r")
    expect(page.locator("#action-reply").get_by_label("Public reply")).to_be_focused()


def test_changing_impact_shows_the_priority_before_saving(people, live_server, agent_page):
    incident = report(people, "Slow laptop", impact="low", urgency="low")
    services.incident_escalate(
        incident=incident, actor=people.actor(people.alice), group=people.group
    )
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/{incident.number}/")
    section = page.locator("#action-priority")
    section.get_by_text("Change impact or urgency").first.click()
    section.get_by_label("Impact", exact=True).select_option("high")
    section.get_by_label("Urgency", exact=True).select_option("high")
    expect(section.locator("#priority-preview")).to_contain_text(
        "Priority will be High (High impact × High urgency)"
    )
    expect(page.get_by_test_id("incident-priority")).to_have_text("Low")  # not saved yet
