"""Small things a user notices: the desk on a phone, the webhook event list, the favicon, and the
portal's confirmation repeating the reporter's own words."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.session import log_in, sign_in
from tests.desk.desk_support import routed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Page) -> None:
    wide, screen = page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    assert wide <= screen, f"{page.url} scrolls sideways: {wide}px on a {screen}px screen"


def test_on_a_phone_the_desk_header_is_compact_and_the_queue_does_not_scroll_sideways(
    people, live_server, context, page
):
    for n in range(3):
        routed(people, f"VPN drops every hour on the third floor printer desk {n}")
    page.set_viewport_size(PHONE)
    sign_in(context, live_server.url, people.ada)  # the admin has the most links in the header
    page.goto(f"{live_server.url}/t/acme/desk/?queue=open")
    header = page.locator("header.site-header").bounding_box()
    assert header is not None
    # It took a quarter of the screen and more (211px of 844, a third of what shows below the
    # browser's bars): at most two short rows now.
    assert header["height"] < 0.12 * PHONE["height"], f"the header is {header['height']}px tall"
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    _no_sideways_scroll(page)
    wide, shown = page.locator("#queue-table").evaluate(
        "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]"
    )
    assert wide <= shown, f"the queue's table scrolls sideways: {wide}px in {shown}px"

    # Each incident is a card: its title, state and age are all on the screen.
    for when in page.locator("#queue-rows time").all():
        box = when.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    title = page.get_by_role("link", name="VPN drops every hour on the third floor printer desk 0")
    expect(title).to_be_in_viewport()
    box = title.bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]

    page.get_by_role("link", name="VPN drops every hour on the third floor printer desk 0").click()
    expect(page.get_by_test_id("incident-state")).to_be_visible()
    _no_sideways_scroll(page)


def test_the_webhook_event_checkboxes_do_not_overlap_their_labels(people, live_server, page):
    log_in(page, live_server.url, "ada@acme.test")
    page.goto(f"{live_server.url}/t/acme/settings/webhooks/new/")
    events = page.get_by_role("group", name="Events").get_by_role("checkbox")
    assert events.count() > 1
    for i in range(events.count()):
        box = events.nth(i).bounding_box()
        label = page.locator("fieldset.events label").nth(i)
        text = label.locator("span.event-name").bounding_box()
        assert box is not None and text is not None
        assert box["x"] + box["width"] <= text["x"], f"checkbox {i} overlaps its label"
        assert box["y"] < text["y"] + text["height"] and text["y"] < box["y"] + box["height"]
    first = events.first
    page.locator("fieldset.events label").first.locator("span.event-name").click()
    expect(first).to_be_checked()


def test_every_page_has_a_favicon(people, live_server, page):
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(f"{live_server.url}/login/")
    href = page.locator("link[rel=icon]").first.get_attribute("href")
    assert href, "no <link rel=icon>"
    assert page.request.get(f"{live_server.url}{href}").ok
    assert page.request.get(f"{live_server.url}/favicon.ico").ok
    assert not missing, missing


def test_the_confirmation_repeats_the_reporters_words_as_they_chose_them(
    people, live_server, context, page
):
    sign_in(context, live_server.url, people.rita)
    page.goto(f"{live_server.url}/t/acme/portal/report/")
    page.get_by_label("Title").fill("VPN drops")
    page.get_by_label("Category").select_option(label="Network")
    page.get_by_label("Only me").check()
    page.get_by_label("I cannot work at all").check()
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Thank you: we have your report")).to_be_visible()
    expect(page.get_by_test_id("impact-words")).to_have_text("Only me")
    expect(page.get_by_test_id("urgency-words")).to_have_text("I cannot work at all")
