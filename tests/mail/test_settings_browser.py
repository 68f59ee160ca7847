"""The email intake settings in Chromium, used as an admin would."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from mail.models import IntakeAddress
from tests.browser.layout import assert_fits
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(people, live_server, page: Page) -> Page:
    """Ada, signed in (the session cookie of a real log-in)."""
    client = Client()
    assert client.login(email=people.ada.email, password=PASSWORD)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def test_a_bad_address_is_fixed_without_losing_the_other_fields(
    people, live_server, admin_page: Page
):
    page = admin_page
    page.goto(f"{live_server.url}/t/acme/settings/")
    page.get_by_role("link", name="Email intake").click()
    page.get_by_role("button", name="Add an intake address").click()
    page.get_by_label("Address", exact=True).fill("help at acme")
    page.get_by_label("Category").select_option(label="Network")
    page.get_by_label("Impact").select_option("high")
    page.get_by_label("Also poll a mailbox over IMAP").check()
    page.get_by_label("IMAP server").fill("imap.acme.test")
    page.get_by_label("IMAP user name").fill("helpdesk")
    page.get_by_label("IMAP password").fill("s3cret")
    page.get_by_role("button", name="Add the address").click()

    expect(page.get_by_role("alert")).to_contain_text("“help at acme” is not a valid email address")
    expect(page.get_by_label("Address", exact=True)).to_have_value("help at acme")
    expect(page.get_by_label("Category")).to_have_value(str(people.network.pk))
    expect(page.get_by_label("Impact")).to_have_value("high")
    expect(page.get_by_label("Also poll a mailbox over IMAP")).to_be_checked()
    expect(page.get_by_label("IMAP server")).to_have_value("imap.acme.test")
    expect(page.get_by_label("IMAP user name")).to_have_value("helpdesk")
    expect(page.get_by_label("IMAP password")).to_have_value("")  # never drawn back
    expect(page.get_by_test_id("password-again")).to_be_visible()
    assert_fits(page)

    page.get_by_label("Address", exact=True).fill("help@acme.test")
    page.get_by_label("IMAP password").fill("s3cret")
    page.get_by_role("button", name="Add the address").click()

    expect(page).to_have_url(re.compile(r"/t/acme/settings/mail/$"))
    expect(page.get_by_role("status")).to_contain_text("Saved help@acme.test.")
    row = page.get_by_test_id("intake-address")
    expect(row).to_contain_text("help@acme.test")
    expect(row).to_contain_text("Network")
    expect(row).to_contain_text("Impact high, urgency medium")
    expect(row).to_contain_text("helpdesk at imap.acme.test:993")
    saved = IntakeAddress.objects.get(tenant=people.acme)
    assert (saved.address, saved.imap_password, saved.category) == (
        "help@acme.test",
        "s3cret",
        people.network,
    )
