"""In Chromium: a manager opens the dashboards, every chart draws without a console error,
a filter change updates the figures in place, and the CSV downloads with them."""

from __future__ import annotations

import csv

import pytest
from playwright.sync_api import Page, expect

from tests.browser.layout import assert_fits
from tests.browser.session import log_in
from tests.dashboards.scenario import viewed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = 9
PERIOD = "period=custom&date_from=2026-11-30&date_to=2026-12-06"


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions from here on (failed loads count too)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def charts_drawn(page: Page) -> int:
    return page.evaluate(
        "[...document.querySelectorAll('canvas[data-chart]')]"
        ".filter(c => window.Chart && Chart.getChart(c)).length"
    )


def tile(page: Page, key: str):
    return page.locator(f'[data-tile="{key}"] .tile-value')


@pytest.fixture
def desk_history(people):
    with viewed(people) as scenario:
        yield scenario


def test_a_manager_reads_filters_and_exports_the_dashboard(
    live_server, people, desk_history, page: Page
):
    log_in(page, live_server.url, "max@acme.test")
    problems = watch_console(page)
    page.goto(f"{live_server.url}/t/acme/dashboards/?{PERIOD}")

    expect(page.get_by_role("heading", name="Dashboards", exact=True)).to_be_visible()
    expect(page.locator("canvas[data-chart]")).to_have_count(CHARTS)
    expect(page.locator("canvas[data-drawn]")).to_have_count(CHARTS)
    assert charts_drawn(page) == CHARTS
    expect(tile(page, "created")).to_have_text("8")
    expect(tile(page, "sla_response")).to_have_text("75%")

    # The numbers behind a chart are a click away, in a table.
    page.get_by_text("Table view of Ageing of open incidents").click()
    table = page.locator('[data-table="ageing"] table')
    expect(table.get_by_role("row", name="3–7 days 3")).to_be_visible()

    # Choosing a group redraws the dashboard in place and keeps the filter in the address.
    page.get_by_label("Group", exact=True).select_option(label="Messaging")
    expect(tile(page, "created")).to_have_text("1")
    expect(page).to_have_url(
        f"{live_server.url}/t/acme/dashboards/?period=custom&date_from=2026-11-30&date_to=2026-12-06&group={desk_history.messaging.pk}&category=&priority="
    )
    expect(page.locator("canvas[data-drawn]")).to_have_count(CHARTS)
    assert charts_drawn(page) == CHARTS
    expect(tile(page, "open")).to_have_text("0")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "dashboard-acme-2026-11-30-2026-12-06.csv"
    with open(download.value.path(), encoding="utf-8", newline="") as saved:
        rows = list(csv.reader(saved))
    assert ["Filters", "Group: Messaging"] in rows
    assert ["Created", "Count", "1", "incidents"] in rows
    assert ["Bob Agent", "0", "1"] in rows
    assert problems == []


def test_the_dashboard_fits_a_phone(live_server, people, desk_history, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live_server.url, "ada@acme.test")
    problems = watch_console(page)
    page.goto(f"{live_server.url}/t/acme/dashboards/?{PERIOD}")
    expect(page.locator("canvas[data-drawn]")).to_have_count(CHARTS)
    assert_fits(page)
    assert problems == []
