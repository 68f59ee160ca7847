"""In Chromium: an admin invites a colleague, who follows the emailed link and gets in."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.layout import assert_fits
from tests.browser.session import log_in
from tests.tenancy.conftest import mails_to

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_an_invited_colleague_joins_through_the_emailed_link(live_server, people, browser):
    admin = browser.new_page(viewport=PHONE)
    log_in(admin, live_server.url, "ada@acme.test")
    expect(admin).to_have_url(re.compile(r"/t/acme/desk/$"))  # an admin lands on the desk
    admin.get_by_role("link", name="Settings").first.click()
    admin.get_by_role("link", name="Members").click()
    admin.get_by_label("Email address").fill("nina@acme.test")
    admin.get_by_label("Role", exact=True).select_option("manager")
    admin.get_by_role("button", name="Send invitation").click()
    expect(admin.get_by_text("Invitation sent to nina@acme.test.")).to_be_visible()
    expect(admin.get_by_role("cell", name="nina@acme.test")).to_be_visible()
    assert_fits(admin)

    [message] = mails_to("nina@acme.test")
    link = re.search(r"https?://\S+", message.body).group(0)
    nina = browser.new_page(viewport=PHONE)
    nina.goto(link.replace(settings.SITE_URL, live_server.url))
    expect(nina.get_by_text("as manager")).to_be_visible()
    nina.get_by_label("Your name").fill("Nina New")
    nina.get_by_label("Choose a password").fill("quiet-harbour-lantern-81")
    nina.get_by_label("The same password again").fill("quiet-harbour-lantern-81")
    nina.get_by_role("button", name="Join Acme Corporation").click()
    expect(nina.get_by_text("Welcome to Acme Corporation's service desk.")).to_be_visible()
    expect(nina.get_by_test_id("current-user")).to_have_text("Nina New")
    expect(nina.get_by_role("link", name="Dashboards").first).to_be_visible()
    assert_fits(nina)


def test_an_admin_deactivates_a_member_who_then_cannot_log_in(live_server, people, browser):
    admin = browser.new_page()
    log_in(admin, live_server.url, "ada@acme.test")
    admin.goto(f"{live_server.url}/t/acme/settings/members/")
    admin.get_by_role("button", name="Deactivate Bob Agent").click()
    expect(admin.get_by_text("Bob Agent is deactivated.")).to_be_visible()
    expect(admin.get_by_role("button", name="Reactivate Bob Agent")).to_be_visible()

    bob = browser.new_page()
    log_in(bob, live_server.url, "bob@acme.test")
    expect(bob.get_by_role("alert")).to_contain_text(
        "Your access to the service desk has been deactivated"
    )
