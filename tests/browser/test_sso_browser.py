"""In Chromium: a person types their work e-mail on the log-in page, is taken to their
organisation's OpenID provider (a real one, tests/sso/oidc.py), signs in there, and arrives in
the desk as a newly provisioned member. The hop to the provider is a script navigation from a
page of the desk's own, since the policy's form-action 'self' blocks a redirect after a POST."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from sso.services import sso_config_set
from tenancy.models import Membership, Role
from tests.sso.oidc import oidc_provider_fixture, sso_settings  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme_sso(people, oidc_provider, settings):
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = True  # the provider listens on 127.0.0.1
    data = sso_settings(oidc_provider.issuer, group_roles={"helpdesk": Role.AGENT})
    return sso_config_set(actor=people.actor(people.ada), data=data)


def _blocked(page: Page) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return refused


def test_a_new_person_signs_in_through_their_provider_and_lands_in_the_portal(
    acme_sso,
    oidc_provider,
    live_server,
    page: Page,
):
    refused = _blocked(page)
    page.goto(f"{live_server.url}/login/")
    expect(page.get_by_test_id("sso-hint")).to_be_visible()
    page.get_by_label("Email").fill("nora@acme.test")
    page.get_by_role("button", name="Log in").click()

    # The provider's own sign-in page, reached by the desk page's script, the e-mail filled in.
    expect(page).to_have_url(re.compile(re.escape(oidc_provider.issuer) + "/interaction/"))
    expect(page.locator("input[name=login]")).to_have_value("nora@acme.test")
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()

    expect(page).to_have_url(f"{live_server.url}/t/acme/portal/")
    membership = Membership.objects.get(user__email="nora@acme.test", tenant=acme_sso.tenant)
    assert membership.role == Role.REQUESTER
    assert refused == []


def test_without_script_the_link_takes_an_agent_to_the_provider_and_into_the_desk(
    acme_sso,
    oidc_provider,
    live_server,
    browser: Browser,
):
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("hal@acme.test")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading")).to_contain_text("Taking you to Acme Corporation's sign-in")
    page.get_by_role("link", name="Continue to Acme Corporation's sign-in").click()

    page.locator("input[name=login]").fill("hal@acme.test;helpdesk")
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    expect(page).to_have_url(f"{live_server.url}/t/acme/desk/")
    assert Membership.objects.get(user__email="hal@acme.test").role == Role.AGENT
