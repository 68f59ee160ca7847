"""axe-core (tests/vendor/axe-core, from the npm registry) finds no WCAG 2.1 AA violation on the
pages people use: the portal, the desk, the dashboard and every settings page."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from playwright.sync_api import Page

from escalation.models import SlaPolicy
from tests.browser.session import sign_in
from tests.desk.desk_support import routed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _violations(page: Page, url: str) -> list[str]:
    """What axe-core reports on the page at `url`, one line per rule and node."""
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    # The desk's Content-Security-Policy refuses inline scripts, which is what add_script_tag(path=)
    # makes: axe comes in as a script of the page's own origin instead, served from the file.
    axe_url = urljoin(page.url, "/__axe-core.js")
    page.route(axe_url, lambda route: route.fulfill(path=str(AXE)))
    page.add_script_tag(url=axe_url)
    page.unroute(axe_url)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)})))",
        TAGS,
    )
    return [f"{url} {v['id']} ({v['help']}): {node}" for v in found for node in v["nodes"]]


def _assert_accessible(page: Page, urls: list[str]) -> None:
    problems = [line for url in urls for line in _violations(page, url)]
    assert not problems, "WCAG 2.1 AA violations:\n" + "\n".join(problems)


def _settings_pages(tenant_slug: str) -> list[str]:
    """Every settings page that takes no argument but the tenant: found from the URLconf, so a
    settings page added later is checked too."""
    tenant = next(
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and "tenant_slug" in str(p.pattern)
    )
    names: list[str] = []

    def walk(patterns, under: str) -> None:
        for p in patterns:
            route = under + str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif (
                isinstance(p, URLPattern)
                and route.startswith("settings/")
                and p.name
                and "<" not in route  # a page of one object: checked below where it matters
                and not p.default_args  # an action (activate, deactivate): POST only
                and p.name not in names
            ):
                names.append(p.name)

    walk(tenant.url_patterns, "")
    return [reverse(name, kwargs={"tenant_slug": tenant_slug}) for name in names]


def test_the_portal_has_no_wcag_violation(people, live_server, context, page):
    incident = routed(people, "Printer on floor 3 is jammed")
    sign_in(context, live_server.url, people.rita)
    base = f"{live_server.url}/t/acme/portal/"
    _assert_accessible(page, [f"{base}report/", base, f"{base}incidents/{incident.number}/"])


def test_the_desk_and_dashboard_have_no_wcag_violation(people, live_server, context, page):
    incident = routed(people, "VPN drops every hour")
    sign_in(context, live_server.url, people.ada)
    base = f"{live_server.url}/t/acme/"
    urls = [f"{base}desk/", f"{base}desk/{incident.number}/", f"{base}dashboards/"]
    _assert_accessible(page, urls)


def test_every_settings_page_has_no_wcag_violation(people, live_server, context, page):
    sign_in(context, live_server.url, people.ada)
    policy = SlaPolicy.objects.for_tenant(people.acme).order_by("pk").first()
    assert policy is not None, "a provisioned tenant has SLA targets"
    edit = reverse("escalation-policy-edit", kwargs={"tenant_slug": "acme", "pk": policy.pk})
    # An action without an argument (SSO's "Test the connection") answers only POST.
    client = Client()
    client.force_login(people.ada)
    pages = [url for url in _settings_pages("acme") if client.get(url).status_code != 405]
    urls = [*pages, edit]
    assert len(urls) > 15, urls
    _assert_accessible(page, [f"{live_server.url}{url}" for url in urls])


def test_the_account_and_personal_data_pages_have_no_wcag_violation(
    people, live_server, context, page
):
    from tenancy.models import Membership

    sign_in(context, live_server.url, people.ada)
    rita = Membership.objects.get(tenant=people.acme, user=people.rita)
    urls = ["/account/", reverse("settings-member-personal-data", args=["acme", rita.pk])]
    _assert_accessible(page, [f"{live_server.url}{url}" for url in urls])
