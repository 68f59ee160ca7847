"""In Chromium, as a person would: log in, pick an organisation, see its home page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tenancy.models import Membership, Role
from tests.browser.session import log_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_of_two_organisations_picks_one_and_sees_its_home(people, live_server, page):
    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.REQUESTER)
    log_in(page, live_server.url, "alice@acme.test", PASSWORD)
    expect(page.get_by_role("heading", name="Choose an organisation")).to_be_visible()
    expect(page.get_by_role("link", name="Acme Corporation")).to_be_visible()
    page.get_by_role("link", name="Globex Inc.").click()
    expect(page).to_have_url(re.compile(r"/t/globex/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Globex Inc.")
    expect(page.get_by_test_id("current-user")).to_have_text("Alice Agent")


def test_a_wrong_password_says_so_and_keeps_the_email(people, live_server, page):
    log_in(page, live_server.url, "alice@acme.test", "not-her-password")
    expect(page.get_by_role("alert")).to_contain_text(
        "That email and password do not match an account"
    )
    expect(page.get_by_label("Email")).to_have_value("alice@acme.test")
    expect(page).to_have_url(re.compile(r"/login/$"))
