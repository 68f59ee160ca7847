"""In Chromium: a person who mistypes their password too often is told to wait, keeps what
they typed, and an admin lets them back in from the members page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.session import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_locked_out_requester_waits_until_an_admin_lets_her_in(
    people, live_server, page: Page, browser: Browser
):
    for n in range(5):
        log_in(page, live_server.url, "rita@acme.test", f"wrong-{n}")
    expect(page.get_by_test_id("lockout")).to_contain_text(
        "Too many failed log-ins for this account or from your network"
    )
    expect(page.get_by_label("Email")).to_have_value("rita@acme.test")
    log_in(page, live_server.url, "rita@acme.test", PASSWORD)
    expect(page.get_by_test_id("lockout")).to_be_visible()  # the right password waits too

    admin = browser.new_context().new_page()
    log_in(admin, live_server.url, "ada@acme.test", PASSWORD)
    admin.goto(f"{live_server.url}/t/acme/settings/members/")
    row = admin.locator("tr[data-member='rita@acme.test']")
    expect(row.get_by_test_id("locked")).to_contain_text("Log-ins paused until")
    row.get_by_role("button", name="Let Rita Requester log in again").click()
    expect(admin.get_by_role("status")).to_contain_text("Rita Requester can log in again now.")
    expect(
        admin.locator("tr[data-member='rita@acme.test']").get_by_test_id("locked")
    ).to_have_count(0)

    log_in(page, live_server.url, "rita@acme.test", PASSWORD)
    expect(page).to_have_url(re.compile(r"/t/acme/"))
    expect(page.get_by_test_id("current-user")).to_have_text("Rita Requester")
