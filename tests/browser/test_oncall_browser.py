"""An on-call schedule in Chromium: bob opens the Network schedule's calendar, covers alice's
shift with an override, and sees the calendar and "on call now" change."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.session import sign_in
from tests.oncall.helpers import daily_schedule

pytestmark = pytest.mark.browser

WHEN = "%Y-%m-%dT%H:%M"


def test_bob_covers_alices_shift_and_the_calendar_and_on_call_now_change(
    transactional_db, people, live_server, context, page
):
    schedule = daily_schedule(people, people.alice, name="Network", tz="UTC")
    base = live_server.url
    sign_in(context, base, people.bob)
    page.goto(f"{base}/t/acme/oncall/")
    expect(page.get_by_test_id("schedule-list")).to_contain_text("Alice Agent")
    page.get_by_role("link", name="Network").click()

    now = timezone.now().astimezone(UTC)
    today = page.locator(f'tr[data-day="{now:%Y-%m-%d}"]')
    expect(page.get_by_test_id("on-call-now")).to_contain_text("On call now: Alice Agent")
    expect(today).not_to_contain_text("Bob Agent")

    form = page.get_by_test_id("override-form")
    form.get_by_label("Who covers").select_option(label="Bob Agent <bob@acme.test>")
    form.get_by_label("From", exact=True).fill((now - timedelta(hours=1)).strftime(WHEN))
    form.get_by_label("Until", exact=True).fill((now + timedelta(hours=2)).strftime(WHEN))
    form.get_by_label("Note").fill("Alice is at the dentist")
    form.get_by_role("button", name="Add the override").click()

    expect(page.get_by_text("The override is added.")).to_be_visible()
    expect(page.get_by_test_id("on-call-now")).to_contain_text("On call now: Bob Agent")
    expect(page.get_by_test_id("on-call-now")).to_contain_text("(override)")
    expect(today).to_contain_text("Bob Agent (override)")
    expect(page.get_by_test_id("oncall-overrides")).to_contain_text("Alice is at the dentist")
    assert schedule.overrides.count() == 1
