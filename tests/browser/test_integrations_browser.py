"""Settings -> Integrations in Chromium: an admin adds a generic webhook, sees its key once,
maps a tool's fields and previews the incident a pasted sample would open, errors in words."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from incidents.models import Integration
from tests.browser.test_desk_workflow import _sign_in

pytestmark = pytest.mark.browser

SAMPLE = {"check": {"id": "web-1", "name": "Site down"}, "level": "crit", "state": "down"}


def test_an_admin_creates_a_webhook_integration_sees_its_key_once_and_previews_a_mapping(
    transactional_db, people, live_server, context, page
):
    _sign_in(context, live_server, people.ada)
    base = live_server.url
    page.goto(f"{base}/t/acme/settings/")
    page.get_by_role("link", name="Integrations").first.click()
    page.get_by_label("Kind").select_option("generic_webhook")
    page.get_by_label("Name").fill("Uptime checks")
    page.get_by_role("button", name="Create the integration").click()
    key = page.locator("#new-key").input_value()
    assert key.startswith("sdi") and Integration.objects.get().key_hash not in key
    page.get_by_role("link", name="configure “Uptime checks”").click()
    expect(page.locator("#new-key")).to_have_count(0)  # shown once, never again

    page.get_by_label("Mapping").fill("dedup_key = $.check.id\ntitle = $.check.nam")
    page.get_by_label("Rules").fill("severity=crit: high/high network")
    page.get_by_label("Sample").fill(json.dumps(SAMPLE))
    page.get_by_role("button", name="Preview the incident").click()
    expect(
        page.get_by_text("The message has no value at title (path $.check.nam).")
    ).to_be_visible()
    expect(page.get_by_label("Mapping")).to_have_value(
        "dedup_key = $.check.id\ntitle = $.check.nam"
    )

    page.get_by_label("Mapping").fill(
        "dedup_key = $.check.id\ntitle = $.check.name\nseverity = $.level\naction = $.state"
    )
    page.get_by_role("button", name="Preview the incident").click()
    preview = page.locator("#preview")
    expect(preview.get_by_role("heading", name="Site down")).to_be_visible()
    expect(preview.get_by_text("Network")).to_be_visible()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“Uptime checks” saved.")).to_be_visible()
    assert Integration.objects.get().mapping["title"] == "$.check.name"
