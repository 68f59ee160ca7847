"""The settings pages in Chromium at phone width, used as an admin would."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from incidents.models import AssignmentGroup, GroupMember, PriorityMatrixCell
from tests.browser.layout import assert_fits
from tests.factories import PASSWORD
from tests.incidents.settings_support import report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": PHONE}


@pytest.fixture
def settings_url(live_server) -> str:
    """The address of acme's settings pages, which admin_page is signed in to."""
    return f"{live_server.url}/t/acme/settings/"


@pytest.fixture
def admin_page(people, live_server, page: Page) -> Page:
    """Ada, signed in (the session cookie of a real login), on her tenant's settings."""
    client = Client()
    assert client.login(email=people.ada.email, password=PASSWORD)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return page


def test_an_admin_applies_the_itil_preset_after_confirming(
    people, admin_page: Page, settings_url: str
):
    report(people.actor(people.rita), title="Mail down", impact="high", urgency="high")
    page = admin_page
    page.goto(settings_url + "matrix/")
    assert_fits(page)
    page.get_by_role("button", name="Apply the ITIL preset").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Saving this changes the priority of 1 open incident."
    )
    expect(page.get_by_label("Level 1 (most urgent) slug")).to_have_value("critical")
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.get_by_role("status")).to_contain_text("1 open incident changed priority")
    grid = page.get_by_test_id("current-matrix")
    expect(grid.get_by_role("row", name="High impact")).to_contain_text("Critical")
    expect(grid.get_by_role("row", name="Low impact")).to_contain_text("Planning")
    assert_fits(page)


def test_a_level_typed_into_the_scale_is_offered_in_the_cells_at_once(
    people, admin_page: Page, settings_url: str
):
    page = admin_page
    page.goto(settings_url + "matrix/")
    expect(page.get_by_role("button", name="Update the level choices")).to_be_hidden()
    page.get_by_label("Level 4 slug").fill("planning")
    page.get_by_label("Level 4 label").fill("Planning")
    page.get_by_label("Low impact × low urgency").select_option(label="Planning")
    page.get_by_role("button", name="Save the scale and matrix").click()
    expect(page.get_by_role("status")).to_contain_text("Priority scale and matrix saved.")
    row = page.get_by_test_id("current-matrix").get_by_role("row", name="Low impact")
    expect(row).to_contain_text("Planning")
    cell = PriorityMatrixCell.objects.get(tenant=people.acme, impact="low", urgency="low")
    assert (cell.level.slug, cell.level.rank) == ("planning", 4)


def test_a_hole_in_the_matrix_is_shown_and_nothing_typed_is_lost(
    people, admin_page: Page, settings_url: str
):
    page = admin_page
    page.goto(settings_url + "matrix/")
    page.get_by_label("Level 1 label").fill("Urgent")
    page.get_by_label("Medium impact × low urgency").select_option(label="— choose —")
    page.get_by_role("button", name="Save the scale and matrix").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The matrix has a hole: choose a priority for medium impact x low urgency."
    )
    expect(page.get_by_label("Level 1 label")).to_have_value("Urgent")
    expect(page.get_by_label("Medium impact × low urgency")).to_have_attribute(
        "aria-invalid", "true"
    )


def test_an_admin_creates_a_group_on_a_phone(people, admin_page: Page, settings_url: str):
    page = admin_page
    page.goto(settings_url + "groups/")
    page.get_by_role("button", name="New group").click()
    expect(page.get_by_role("heading", name="New assignment group")).to_be_visible()
    assert_fits(page)
    page.get_by_label("Name", exact=True).fill("Network team")
    page.get_by_label("Lead").select_option(label="Max Manager (max@acme.test)")
    page.get_by_label("Alice Agent (alice@acme.test)").check()
    page.get_by_label("Auto-assignment").check()
    page.get_by_role("button", name="Create the group").click()
    expect(page.get_by_role("status")).to_contain_text("Saved Network team.")
    expect(page.get_by_role("row", name="Network team")).to_contain_text("Alice Agent")
    group = AssignmentGroup.objects.get(tenant=people.acme, slug="network-team")
    assert group.lead == people.max and group.auto_assign
    assert list(GroupMember.objects.filter(group=group).values_list("user__email", flat=True)) == [
        "alice@acme.test"
    ]
    assert_fits(page)
