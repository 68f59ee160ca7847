"""Finding anything in the desk, in Chromium (issue 14): a closed incident found by a search
from any queue, the History tab, a saved view among the tabs, and another tenant's 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from desk import services as desk_services
from incidents import services
from tests.browser import test_desk_workflow
from tests.desk.desk_support import report, routed

pytestmark = pytest.mark.browser
agent_page = test_desk_workflow.agent_page  # the fixture: an agent's signed-in page


def _closed(people, title: str):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=routed(people, title), actor=alice)
    incident = services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Cleaned the rollers.",
    )
    return services.incident_close(incident=incident, actor=people.actor(people.rita), rating=4)


def test_searching_a_closed_incidents_title_from_the_desk_finds_it(people, live_server, agent_page):
    gone = _closed(people, "Plotter smears the blueprints")
    report(people, "Printer jams")
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/?queue=mine")
    page.get_by_role("searchbox").fill("plotter")
    page.get_by_role("button", name="Apply filters").click()
    row = page.locator(f'tr[data-number="{gone.number}"]')
    expect(row).to_contain_text("Plotter smears the blueprints")
    expect(row).to_contain_text("Closed")
    expect(page.get_by_test_id("search-scope")).to_contain_text("Searching every incident")
    expect(page.get_by_text("Printer jams")).to_have_count(0)


def test_the_history_tab_lists_closed_and_cancelled_incidents(people, live_server, agent_page):
    gone = _closed(people, "Plotter smears the blueprints")
    dropped = services.incident_cancel(
        incident=report(people, "Reported twice"), actor=people.actor(people.alice), reason="Dup"
    )
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/")
    tabs = page.get_by_role("navigation", name="Queues")
    tabs.get_by_role("link", name=re.compile(r"^History")).click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.locator(f'tr[data-number="{gone.number}"]')).to_contain_text("Closed")
    expect(page.locator(f'tr[data-number="{dropped.number}"]')).to_contain_text("Cancelled")


def test_an_agent_saves_a_view_and_finds_it_in_the_tabs(people, live_server, agent_page):
    wanted = report(people, "Plotter jams", impact="high", urgency="high")
    report(people, "Printer jams")
    page = agent_page(people.alice)
    page.goto(f"{live_server.url}/t/acme/desk/?queue=open")
    page.get_by_role("searchbox").fill("plotter")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_text("Save these filters as a view").click()
    page.get_by_label("Name of the view").fill("Plotters")
    page.get_by_role("button", name="Save view").click()
    expect(page.get_by_text("Saved the view “Plotters”")).to_be_visible()

    page.goto(f"{live_server.url}/t/acme/desk/?queue=mine")
    expect(page.get_by_text("Plotter jams")).to_have_count(0)
    tabs = page.get_by_role("navigation", name="Queues")
    tabs.get_by_role("link", name="Plotters").click()
    expect(page.locator(f'tr[data-number="{wanted.number}"]')).to_be_visible()
    expect(page.get_by_text("Printer jams")).to_have_count(0)
    expect(page.get_by_role("searchbox")).to_have_value("plotter")
    expect(tabs.get_by_role("link", name="Plotters")).to_have_attribute("aria-current", "page")


def test_charlie_gets_404_on_alices_saved_view(people, live_server, agent_page):
    view = desk_services.saved_view_create(
        actor=people.actor(people.alice), name="Plotters", query="queue=open&q=plotter"
    )
    path = reverse("desk-view-edit", kwargs={"tenant_slug": "acme", "pk": view.pk})
    page = agent_page(people.charlie)
    response = page.goto(f"{live_server.url}{path}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Plotters")).to_have_count(0)
