"""A requester's whole journey in Chromium at phone width: report, follow, confirm or reopen."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import FilePayload, Page, expect

from incidents import services
from incidents.models import Incident
from tenancy.models import Membership, Role
from tests.browser.layout import assert_fits
from tests.factories import PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.browser_context_args(viewport={"width": 375, "height": 812}),
]


def log_in(page: Page, base: str, email: str) -> None:
    """A session made by Django's test client, handed to the browser: the journey under test
    starts at the tenant home (logging in has its own browser test)."""
    client = Client()
    assert client.login(email=email, password=PASSWORD)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    page.goto(f"{base}/t/acme/")
    expect(page.get_by_role("heading", name="Acme Corporation")).to_be_visible()


def resolve_as_alice(people, incident: Incident) -> Incident:
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=incident, actor=alice)
    return services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Renewed the VPN certificate.",
    )


def report_through_the_form(page: Page, title: str) -> str:
    page.get_by_role("button", name="Report an incident").click()
    expect(page.get_by_role("heading", name="Report an incident")).to_be_visible()
    assert_fits(page)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("It cuts out every hour since Monday.")
    page.get_by_label("Category").select_option(label="Network")
    page.get_by_label("My team or department").check()
    page.get_by_label("I cannot work at all").check()
    page.get_by_label("Attachments").set_input_files(
        [FilePayload(name="error.png", mimeType="image/png", buffer=b"\x89PNG\r\n\x1a\n")]
    )
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Thank you: we have your report")).to_be_visible()
    assert_fits(page)
    return page.get_by_test_id("incident-number").inner_text()


@pytest.fixture
def paul_reported_vpn(people):
    paul = UserFactory(email="paul@acme.test", full_name="Paul Affected")
    Membership.objects.create(tenant=people.acme, user=paul, role=Role.REQUESTER)
    return services.incident_report(
        actor=people.actor(paul), title="VPN keeps dropping", category=people.network
    )


def test_a_requester_reports_sees_the_number_and_confirms_the_fix(
    live_server, page: Page, people, transactional_db
):
    base = live_server.url
    log_in(page, base, "rita@acme.test")
    number = report_through_the_form(page, "Laptop VPN drops")
    assert re.fullmatch(r"INC-\d{6}", number)
    expect(page.get_by_text("Priority:")).to_contain_text("High")
    incident = Incident.objects.get(tenant=people.acme, title="Laptop VPN drops")
    assert incident.reference == number and incident.state == "escalated"
    assert (incident.impact, incident.urgency) == ("medium", "high")

    resolve_as_alice(people, incident)
    page.get_by_role("button", name=f"Follow {number}").click()
    expect(page.get_by_test_id("incident-state")).to_have_text(
        "Resolved: waiting for the reporter to confirm"
    )
    expect(page.get_by_test_id("resolution")).to_contain_text("Renewed the VPN certificate.")
    assert_fits(page)
    page.get_by_label("5 – Excellent").check()
    page.get_by_label("Anything to add? (optional)").fill("Fast and friendly")
    page.get_by_role("button", name="Yes, it's fixed").click()
    expect(page.get_by_text(f"Thank you. {number} is closed.")).to_be_visible()
    expect(page.get_by_test_id("incident-state")).to_have_text("Closed")
    incident.refresh_from_db()
    assert (incident.state, incident.satisfaction_rating) == ("closed", 5)

    page.get_by_role("link", name="My incidents").first.click()
    page.get_by_role("link", name="Closed").click()
    expect(page.get_by_test_id("my-incidents")).to_contain_text(number)
    assert_fits(page)


def test_a_requester_joins_a_similar_incident_instead_of_reporting(
    live_server, page: Page, people, transactional_db, paul_reported_vpn
):
    log_in(page, live_server.url, "rita@acme.test")
    page.get_by_role("button", name="Report an incident").click()
    page.get_by_label("Title").press_sequentially("vpn drop", delay=30)
    join = page.get_by_role("button", name=f"This is my problem too: {paul_reported_vpn.reference}")
    expect(join).to_be_visible()
    assert_fits(page)
    join.click()
    expect(page.get_by_text(f"You are now following {paul_reported_vpn.reference}")).to_be_visible()
    paul_reported_vpn.refresh_from_db()
    assert paul_reported_vpn.affected_count == 2
    assert Incident.objects.filter(tenant=people.acme).count() == 1


def test_a_requester_reopens_from_the_email_link(
    live_server, page: Page, people, transactional_db, settings
):
    settings.SITE_URL = live_server.url  # the links in the emails point at this server
    log_in(page, live_server.url, "rita@acme.test")
    number = report_through_the_form(page, "Shared drive is read-only")
    incident = Incident.objects.get(tenant=people.acme, number=int(number[4:]))
    resolve_as_alice(people, incident)
    resolved_mail = next(m for m in mail.outbox if m.subject.startswith(f"[{number}] Resolved"))
    found = re.search(r"No, still broken:\s+(\S+)", str(resolved_mail.body))
    assert found is not None, resolved_mail.body
    link = found.group(1)

    page.context.clear_cookies()  # the link needs no password
    page.goto(link)
    expect(page.get_by_text("Nothing changes until you press the button.")).to_be_visible()
    assert Incident.objects.get(pk=incident.pk).state == "resolved"
    assert_fits(page)
    page.get_by_label("What is still wrong?").fill("Still read-only for the finance folder")
    page.get_by_role("button", name="No, still broken").click()
    expect(page.get_by_test_id("link-result")).to_contain_text(f"{number} is reopened")
    incident.refresh_from_db()
    assert (incident.state, incident.reopen_count) == ("diagnosing", 1)

    page.reload()  # the link is used up now
    expect(page.get_by_test_id("link-problem")).to_contain_text("already been used")
    log_in(page, live_server.url, "rita@acme.test")
    page.goto(f"{live_server.url}/t/acme/portal/incidents/{incident.number}/")
    expect(page.get_by_test_id("incident-state")).to_have_text(
        "In progress: someone is working on it"
    )
    expect(page.get_by_text("Still read-only for the finance folder")).to_be_visible()
