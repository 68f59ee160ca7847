"""In Chromium: an agent sets up an authenticator app from its QR page and signs in with a code
computed from the secret, as her phone would; another registers a passkey with Chromium's
virtual authenticator and signs in with it. The desk is opened as http://localhost:<port>:
WebAuthn needs a secure context and a domain for its relying party ID."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tenancy.mfa import services
from tests.browser.session import log_in, sign_in
from tests.browser.test_accessibility import _assert_accessible
from tests.tenancy.mfa_support import STEP, code_at, enrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_an_agent_sets_up_an_authenticator_app_and_signs_in_with_its_code(
    people, live_server, page: Page
):
    base = live_server.url
    assert base.startswith("http://localhost:")
    log_in(page, base, "alice@acme.test")
    expect(page).to_have_url(re.compile(r"/t/acme/desk/"))
    page.goto(f"{base}/account/two-factor/")
    page.get_by_role("button", name="Add an authenticator app").click()
    expect(
        page.get_by_role("img", name="QR code to scan into your authenticator app")
    ).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("The 6-digit code your app shows").fill(code_at(secret))
    page.get_by_label("Name it (optional)").fill("Phone")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("status")).to_contain_text("Your authenticator app “Phone” is set up.")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    log_out(page)

    log_in(page, base, "alice@acme.test")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code").fill("000000" if code_at(secret) != "000000" else "111111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    # The enrolment used this period's code: the phone's next one (within the allowed drift).
    page.get_by_label("Code").fill(code_at(secret, time.time() + STEP))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/t/acme/desk/"))
    expect(page.get_by_test_id("current-user")).to_have_text("Alice Agent")


def test_an_agent_registers_a_passkey_and_signs_in_with_it(people, live_server, page: Page):
    base = live_server.url
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    sign_in(page.context, base, people.bob)
    page.goto(f"{base}/account/two-factor/")
    page.get_by_role("button", name="Add a passkey").click()
    page.get_by_label("Name of the passkey").fill("Work laptop")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Create the passkey").click()
    expect(page.get_by_role("status")).to_contain_text("Your passkey is set up.")
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    assert [p.name for p in services.passkeys(people.bob)] == ["Work laptop"]
    page.get_by_role("button", name="I have saved them").click()
    expect(page.get_by_test_id("passkeys")).to_contain_text("Work laptop")
    log_out(page)

    log_in(page, base, "bob@acme.test")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_role("button", name="Use my passkey").click()
    expect(page).to_have_url(re.compile(r"/t/acme/desk/"))
    expect(page.get_by_test_id("current-user")).to_have_text("Bob Agent")


def test_the_two_factor_pages_have_no_wcag_violation(
    people, live_server, context, page: Page, browser: Browser
):
    base = live_server.url
    device = enrol(people.alice)
    member = people.alice.memberships.get(tenant=people.acme).pk
    sign_in(context, base, people.ada)
    _assert_accessible(page, [f"{base}/t/acme/settings/members/{member}/two-factor-reset/"])

    sign_in(context, base, people.alice)  # the same browser, now hers
    pages = ["", "authenticator/", "passkey/", "recovery-codes/"]
    urls = [f"{base}/account/two-factor/{p}" for p in pages]
    urls.append(f"{base}/account/two-factor/authenticator/{device.pk}/remove/")
    _assert_accessible(page, urls)

    signing_in = browser.new_context().new_page()
    log_in(signing_in, base, "alice@acme.test")
    expect(signing_in.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    _assert_accessible(signing_in, [f"{base}/login/verify/"])
