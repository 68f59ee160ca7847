""" "Breaching soon" in Chromium: only incidents past their first SLA warning or breached, both
clocks on each row, the soonest deadline first, and the tab counts what the list shows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_desk_workflow import agent_page  # noqa: F401 (a fixture)
from tests.desk.breaching_support import reported_ago, round_the_clock_targets

pytestmark = pytest.mark.browser


def test_breaching_soon_lists_near_breach_incidents_with_both_clocks(
    people,
    live_server,
    agent_page,  # noqa: F811
):
    round_the_clock_targets(people)  # 1 h to respond, 10 h to resolve, warning at 75%
    calm = reported_ago(people, "Mouse squeaks", timedelta(minutes=6))  # 10% of the response
    near = reported_ago(people, "Mail slow", timedelta(minutes=48))  # 80% of the response
    breached = reported_ago(people, "VPN down", timedelta(hours=2))  # response breached 1 h ago

    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/?queue=open")
    expect(page.locator("#queue-rows tr[data-number]")).to_have_count(3)
    page.get_by_role("link", name=re.compile(r"^Breaching soon")).click()
    expect(page.get_by_role("heading", name="Breaching soon")).to_be_visible()

    rows = page.locator("#queue-rows tr[data-number]")
    expect(rows).to_have_count(2)
    # The soonest deadline first: the response deadline passed an hour ago, then the one due in
    # twelve minutes.
    expect(rows.nth(0)).to_have_attribute("data-number", str(breached.number))
    expect(rows.nth(1)).to_have_attribute("data-number", str(near.number))
    expect(page.locator(f'tr[data-number="{calm.number}"]')).to_have_count(0)
    expect(page.locator(".count[data-queue=breaching]")).to_have_text("2")

    near_row = rows.nth(1)
    expect(near_row.locator("[data-metric=response]")).to_have_text(
        re.compile(r"Response: due in 1[12] min")
    )
    expect(near_row.locator("[data-metric=resolution]")).to_have_text(
        re.compile(r"Resolution: due in 9 h 1[12] min")
    )
    expect(near_row.locator("[data-metric=response] .sla-badge")).to_have_attribute(
        "data-colour", "warning"
    )
    breached_row = rows.nth(0)
    expect(breached_row.locator("[data-metric=response]")).to_have_text(
        re.compile(r"Response: Breached 1 h( \d+ (min|s))? ago")
    )
    expect(breached_row.locator("[data-metric=resolution]")).to_have_text(
        re.compile(r"Resolution: due in [78] h")
    )
    header = page.get_by_role("columnheader", name=re.compile("response, resolution"))
    expect(header).to_be_visible()
