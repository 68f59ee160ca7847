"""In Chromium, under the desk's Content-Security-Policy: the main pages load without one refusal
(no console line "Refused to …", no securitypolicyviolation event), and the behaviours moved out
of the templates into static/js still work: "Not what I need" on the portal report, the new API
key selected on click, the dashboard redrawn when a filter is chosen, polling paused in a hidden
tab, the presence box loaded."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import BrowserContext, Page, expect

from knowledge import services as knowledge
from knowledge.models import Audience
from knowledge.services import ArticleText
from tests.browser.session import sign_in
from tests.desk.desk_support import routed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Added before any page script runs (through the DevTools protocol, so the CSP does not apply).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""

HIDE_TAB = (
    "Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'})"
)


class Watch:
    """Every console line and page error of a browser context, and its CSP violations."""

    def __init__(self, context: BrowserContext) -> None:
        self.lines: list[str] = []
        context.add_init_script(RECORD_VIOLATIONS)
        context.on("console", lambda m: self.lines.append(f"{m.type}: {m.text}"))
        context.on("weberror", lambda e: self.lines.append(f"pageerror: {e.error}"))

    def assert_no_refusal(self, page: Page) -> None:
        violations = page.evaluate("window.__violations")
        refused = [
            line
            for line in self.lines
            if "Content Security Policy" in line or "Refused to" in line or "EvalError" in line
        ]
        assert (violations, refused) == ([], [])
        assert not [line for line in self.lines if line.startswith(("error:", "pageerror:"))]


@pytest.fixture
def watch(context: BrowserContext) -> Watch:
    return Watch(context)


def open_page(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    policy = response.header_value("content-security-policy") or ""
    assert "script-src 'self'" in policy and "unsafe" not in policy, policy
    page.wait_for_load_state("networkidle")


def test_the_portal_report_offers_articles_and_not_what_i_need_dismisses_them(
    people, live_server, context, page, watch
):
    alice = people.actor(people.alice)
    article = knowledge.article_create(
        actor=alice,
        text=ArticleText(
            title="Reset your VPN certificate",
            body="Open the VPN app and choose **Renew certificate**.",
            audience=Audience.REQUESTERS,
        ),
    )
    knowledge.article_publish(actor=alice, article=article)
    routed(people, "VPN certificate expired on my laptop")
    sign_in(context, live_server.url, people.rita)
    open_page(page, f"{live_server.url}/t/acme/portal/report/")

    title = page.get_by_label("Title")
    title.press_sequentially("VPN certificate expired", delay=20)
    offered = page.get_by_test_id("suggested-articles")
    expect(offered.get_by_role("link", name="Reset your VPN certificate")).to_be_visible()
    expect(page.get_by_text("Is it one of these?")).to_be_visible()
    offered.get_by_role("button", name="Not what I need").click()
    expect(offered).to_have_count(0)
    # Only the articles go: the similar incidents and the typed title stay.
    expect(page.get_by_text("Is it one of these?")).to_be_visible()
    expect(title).to_have_value("VPN certificate expired")
    open_page(page, f"{live_server.url}/t/acme/portal/")
    watch.assert_no_refusal(page)


def test_the_desk_queue_polls_only_while_the_tab_is_visible(
    people, live_server, context, page, watch, settings
):
    settings.DESK_POLL_SECONDS = 1
    routed(people, "VPN drops every hour")
    sign_in(context, live_server.url, people.alice)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if r.headers.get("hx-request") else None)
    open_page(page, f"{live_server.url}/t/acme/desk/?queue=open")
    expect(page.get_by_text("VPN drops every hour")).to_be_visible()
    page.wait_for_timeout(2_500)
    assert polls, "the queue polls every second while the tab is visible"

    # The tab goes to the background: no request until it comes back.
    page.evaluate(HIDE_TAB)
    page.wait_for_timeout(1_200)  # a poll already on its way may still land
    before = len(polls)
    page.wait_for_timeout(2_500)
    assert len(polls) == before
    page.evaluate("delete document.visibilityState")
    page.wait_for_timeout(2_500)
    assert len(polls) > before

    # The bell's icon keeps its alignment, now from desk.css rather than a style attribute.
    bell = page.get_by_test_id("notification-bell").locator("svg")
    assert bell.evaluate("svg => getComputedStyle(svg).verticalAlign") == "-3px"
    watch.assert_no_refusal(page)


def test_the_incident_page_asks_who_else_is_there_at_once(
    people, live_server, context, page, watch
):
    incident = routed(people, "Printer on fire")
    sign_in(context, live_server.url, people.alice)
    # hx-trigger="load, every …" without its visibility filter: the load request goes at once.
    with page.expect_response(lambda r: r.url.endswith("/presence/")) as presence:
        open_page(page, f"{live_server.url}/t/acme/desk/{incident.number}/")
    assert presence.value.ok
    expect(page.get_by_test_id("incident-state")).to_be_visible()
    watch.assert_no_refusal(page)


def test_the_dashboard_draws_its_charts_and_redraws_on_a_filter(
    people, live_server, context, page, watch
):
    routed(people, "VPN drops every hour")
    sign_in(context, live_server.url, people.max)
    open_page(page, f"{live_server.url}/t/acme/dashboards/")
    charts = page.locator("canvas[data-chart]")
    count = charts.count()
    assert count > 0
    # Locators, not wait_for_function: that evaluates a string in the page, which the CSP refuses.
    expect(page.locator("canvas[data-drawn]")).to_have_count(count)
    assert page.evaluate(
        "[...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"
    )

    # Choosing a group redraws the dashboard in place (dashboards.js, not an hx-trigger filter).
    page.evaluate("document.getElementById('dashboard').dataset.before = 'yes'")
    page.get_by_label("Group", exact=True).select_option(label="Service Desk")
    expect(page).to_have_url(re.compile(rf"/t/acme/dashboards/\?.*group={people.group.pk}"))
    expect(page.locator("#dashboard[data-before]")).to_have_count(0)  # swapped for a new one
    expect(page.locator("canvas[data-drawn]")).to_have_count(count)
    watch.assert_no_refusal(page)


def test_a_new_api_key_is_selected_on_click(people, live_server, context, page, watch):
    sign_in(context, live_server.url, people.ada)
    open_page(page, f"{live_server.url}{reverse('settings-api-keys', args=['acme'])}")
    page.get_by_label("Name").fill("Zabbix")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-key")
    expect(key).to_be_visible()
    key.click()
    selected = key.evaluate("i => [i.selectionStart, i.selectionEnd, i.value.length]")
    assert selected[0] == 0 and selected[1] == selected[2] > 20
    watch.assert_no_refusal(page)
