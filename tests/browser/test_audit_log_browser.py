"""Ada reads the audit log: from Settings to the page, who changed what in words, a filter by
kind of change, a wrong pair of days explained with what she typed kept, and the retention
period set on Settings → General and found in the log."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tenancy.services import tenant_audit_retention_set
from tests.browser.session import log_in
from tests.tenancy.audit_helpers import key_created, role_changed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rows(page: Page):
    return page.locator("table.audit-log tbody tr")


def _row(page: Page, action: str):
    """The (newest) row of a kind of change: sign-ins may be recorded around it."""
    return page.locator(f'table.audit-log tr[data-action="{action}"]').first


def test_ada_reads_and_filters_the_audit_log(people, live_server, page):
    role_changed(people, who=people.max)
    key_created(people, label="Pager")
    tenant_audit_retention_set(actor=people.actor(people.ada), days=365)
    log_in(page, live_server.url, "ada@acme.test")

    page.goto(f"{live_server.url}/t/acme/settings/")
    page.get_by_role("link", name="Audit log", exact=True).first.click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    log = page.locator("table.audit-log")
    expect(log).to_contain_text("Max Manager")
    expect(log).to_contain_text("Role: Agent → Manager")
    expect(log).to_contain_text("API key “Zabbix”")
    expect(_row(page, "audit.retention_changed")).to_contain_text("Retention days: 730 → 365")

    page.get_by_label("What", exact=True).select_option(
        label="changed how long the audit log keeps records"
    )
    page.get_by_role("button", name="Filter").click()
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Ada Admin")

    page.get_by_label("What", exact=True).select_option(label="Any action")
    page.get_by_label("Who", exact=True).fill("max@acme.test")
    page.get_by_label("From", exact=True).fill("2026-12-09")
    page.get_by_label("To", exact=True).fill("2026-12-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("The last day is before the first day; swap them.")).to_be_visible()
    expect(page.get_by_label("Who", exact=True)).to_have_value("max@acme.test")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-12-09")
    expect(_rows(page)).to_have_count(1)  # the other filter still applies: Max's change
    expect(_rows(page).first).to_contain_text("Alice Agent")

    page.get_by_role("link", name="Clear filters").click()
    expect(page.get_by_label("Who", exact=True)).to_have_value("")
    expect(_row(page, "member.role_changed")).to_be_visible()


def test_ada_changes_the_retention_and_finds_it_in_the_log(people, live_server, page):
    log_in(page, live_server.url, "ada@acme.test")
    page.goto(f"{live_server.url}/t/acme/settings/general/")
    keep = page.get_by_label(re.compile("Keep audit log records for"))
    expect(keep).to_have_value("730")
    keep.fill("10")
    page.get_by_role("button", name="Save retention period").click()
    expect(page.get_by_text("The audit log keeps records for 30 to 3650 days")).to_be_visible()
    page.get_by_label(re.compile("Keep audit log records for")).fill("90")
    page.get_by_role("button", name="Save retention period").click()
    expect(page.get_by_text("The audit log now keeps records for 90 days.")).to_be_visible()
    page.get_by_role("link", name="Read the audit log").click()
    expect(_row(page, "audit.retention_changed")).to_contain_text("Retention days: 730 → 90")


def test_ada_changes_a_matrix_cell_and_reads_the_change_in_words(people, live_server, page):
    log_in(page, live_server.url, "ada@acme.test")
    page.goto(f"{live_server.url}/t/acme/settings/matrix/")
    page.get_by_label("Low impact × low urgency", exact=True).select_option(label="Medium")
    page.get_by_role("button", name="Save the scale and matrix").click()
    expect(page.get_by_role("heading", name="Priority scale and matrix", level=1)).to_be_visible()

    page.goto(f"{live_server.url}/t/acme/settings/audit/")
    change = _row(page, "matrix.changed")
    expect(change).to_contain_text("Ada Admin")
    expect(change).to_contain_text("changed the priority matrix")
    expect(change).to_contain_text("Low impact × low urgency: Low → Medium")
