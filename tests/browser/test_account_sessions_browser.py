"""In Chromium: a person signed in on two browsers sees both on their account page, signs the
other out (it is sent to log in), and a password change signs the other out too."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.layout import assert_fits
from tests.browser.session import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "copper-kettle-meadow-93"


def two_browsers(browser: Browser, base: str) -> tuple[Page, Page]:
    """Rita logged in on a laptop and on a phone (two contexts: two cookie jars)."""
    laptop = browser.new_context().new_page()
    phone = browser.new_context(
        user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0"
    ).new_page()
    for page in (laptop, phone):
        log_in(page, base, "rita@acme.test")
        expect(page).to_have_url(re.compile(r"/t/acme/portal/"))
    return laptop, phone


def expect_sent_to_log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/t/acme/portal/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_a_person_sees_both_sessions_and_signs_the_other_out(live_server, people, browser):
    laptop, phone = two_browsers(browser, live_server.url)
    laptop.get_by_test_id("current-user").click()  # one's own name leads to one's account
    expect(laptop.get_by_role("heading", name="Where you're signed in")).to_be_visible()
    rows = laptop.locator("table.sessions tbody tr")
    expect(rows).to_have_count(2)
    expect(laptop.locator("tr[data-current]")).to_contain_text("(this device)")
    other = rows.filter(has_text="Firefox on Windows")
    other.get_by_role("button", name=re.compile(r"^Sign out Firefox on Windows")).click()
    expect(laptop.get_by_role("status")).to_contain_text("That session is signed out.")
    expect(laptop.locator("table.sessions tbody tr")).to_have_count(1)
    expect_sent_to_log_in(phone, live_server.url)
    laptop.goto(f"{live_server.url}/t/acme/portal/")
    expect(laptop.get_by_test_id("current-user")).to_have_text("Rita Requester")


def test_changing_the_password_signs_the_other_session_out(live_server, people, browser):
    laptop, phone = two_browsers(browser, live_server.url)
    laptop.goto(f"{live_server.url}/account/")
    laptop.get_by_label("Current password").fill(PASSWORD)
    laptop.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    laptop.get_by_label("New password again").fill(NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.get_by_role("status")).to_contain_text(
        "Your password is changed. You were signed out of 1 other session."
    )
    expect_sent_to_log_in(phone, live_server.url)
    laptop.goto(f"{live_server.url}/t/acme/portal/")
    expect(laptop.get_by_test_id("current-user")).to_have_text("Rita Requester")
    log_in(phone, live_server.url, "rita@acme.test", NEW_PASSWORD)
    expect(phone).to_have_url(re.compile(r"/t/acme/portal/"))


def test_the_account_page_fits_a_phone_screen(live_server, people, browser):
    phone = browser.new_context(viewport={"width": 375, "height": 740}).new_page()
    log_in(phone, live_server.url, "alice@acme.test")
    expect(phone).to_have_url(re.compile(r"/t/acme/desk/"))
    phone.goto(f"{live_server.url}/account/")
    expect(phone.get_by_role("heading", name="Your account")).to_be_visible()
    assert_fits(phone)
