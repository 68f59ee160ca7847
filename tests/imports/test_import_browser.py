"""The imports page in Chromium at phone width, used as an admin would."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from imports.models import ImportRun, RunState
from tests.browser.layout import assert_fits
from tests.imports.conftest import histories, running_run, without_line, write_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_uploads_an_export_and_reads_the_report(
    people, admin_page: Page, settings_url: str, tmp_path
):
    numbers = ("INC0000045", "INC0000130", "INC0000715")
    path = write_csv(
        tmp_path / "servicenow.csv", [without_line(r) for n in numbers for r in histories()[n]]
    )
    page = admin_page
    page.goto(settings_url)
    page.get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    assert_fits(page)
    page.get_by_label("File", exact=True).set_input_files(str(path))
    page.get_by_label("Adopt the file's priority scale and matrix").check()
    page.get_by_role("button", name="Import").click()  # the worker runs eagerly in tests
    expect(page.get_by_test_id("import-state")).to_contain_text("Done")
    expect(page.get_by_test_id("incidents-imported")).to_have_text("3")
    expect(page.get_by_test_id("disagreements")).to_have_text("0")
    expect(page.get_by_label("Progress: 100%")).to_have_attribute("value", "100")
    expect(page.get_by_test_id("filled-cells")).to_contain_text("3 - Moderate")
    assert_fits(page)


def test_the_progress_bar_moves_without_a_reload(people, admin_page: Page, settings_url: str):
    run = running_run(people.acme, rows=(300, 1000), incidents=(30, 100))
    page = admin_page
    page.goto(settings_url + f"imports/{run.pk}/")
    expect(page.get_by_test_id("import-percent")).to_have_text("30")
    ImportRun.objects.filter(pk=run.pk).update(rows_done=700, incidents_done=70)
    expect(page.get_by_test_id("import-percent")).to_have_text("70")
    ImportRun.objects.filter(pk=run.pk).update(
        state=RunState.DONE, rows_done=1000, incidents_done=100, incidents_created=100
    )
    expect(page.get_by_test_id("import-state")).to_contain_text("Done")
    expect(page.get_by_test_id("incidents-imported")).to_have_text("100")
