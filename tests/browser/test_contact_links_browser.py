"""A contact without an account, in Chromium at phone width, with nothing but the desk's mail:
follows the incident by the link in it, then confirms the fix and rates it by the resolved
mail's link; the spent link then says so."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from incidents import services
from incidents.models import Incident
from tenancy.actors import Actor
from tests.browser.layout import assert_fits

pytestmark = [
    pytest.mark.browser,
    pytest.mark.browser_context_args(viewport={"width": 375, "height": 812}),
]

CAROL = "carol@example.com"


def last_mail_to(address: str, subject_part: str = "") -> str:
    found = [m for m in mail.outbox if address in m.to and subject_part in m.subject]
    assert found, [m.subject for m in mail.outbox]
    return str(found[-1].body)


def link_in(body: str, pattern: str) -> str:
    found = re.search(pattern, body)
    assert found is not None, body
    return found.group(1)


def test_a_contact_follows_confirms_and_rates_by_the_links_in_the_mail(
    live_server, page: Page, people, transactional_db, settings
):
    settings.SITE_URL = live_server.url  # the links in the mails point at this server
    alice = people.actor(people.alice)
    incident = services.incident_report(
        actor=Actor.contact(people.acme, name="Carol Customer", email=CAROL),
        title="Printer on floor 3 jams",
        category=people.network,
        contact_name="Carol Customer",
        contact_email=CAROL,
    )
    incident = services.incident_accept(incident=incident, actor=alice)
    services.comment_add(incident=incident, actor=alice, body="Please use tray 1 meanwhile.")
    services.comment_add(
        incident=incident, actor=alice, body="Fuser worn out, order part 55-X", public=False
    )
    reply = last_mail_to(CAROL, "New reply")
    follow = link_in(reply, r"Follow it here: (\S+/follow/\S+)")

    page.goto(follow)
    expect(page.get_by_role("heading", name="INC-000001 Printer on floor 3 jams")).to_be_visible()
    expect(page.get_by_text("Please use tray 1 meanwhile.")).to_be_visible()
    expect(page.get_by_text("Carol Customer")).to_be_visible()  # her report, on the timeline
    expect(page.locator("body")).not_to_contain_text("Fuser worn out")
    expect(page.locator("body")).not_to_contain_text("55-X")
    expect(page.get_by_role("button", name="Send")).to_have_count(0)  # read-only
    assert_fits(page)

    incident = services.incident_resolve(
        incident=Incident.objects.get(pk=incident.pk),
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Replaced the fuser.",
    )
    resolved = last_mail_to(CAROL, "Resolved:")
    assert "incident page" not in resolved
    fixed = link_in(resolved, r"Yes, it's fixed:\s+(\S+)")

    page.goto(fixed)
    expect(page.get_by_text("Nothing changes until you press the button.")).to_be_visible()
    assert Incident.objects.get(pk=incident.pk).state == "resolved"
    assert_fits(page)
    page.get_by_label("5 – Excellent").check()
    page.get_by_role("button", name="Yes, it's fixed").click()
    expect(page.get_by_test_id("link-result")).to_contain_text(
        "Thank you. INC-000001 is closed, and you rated the help 5 out of 5."
    )
    closed = Incident.objects.get(pk=incident.pk)
    assert (closed.state, closed.satisfaction_rating) == ("closed", 5)

    response = page.goto(fixed)  # the same link again
    assert response is not None and response.status == 410
    expect(page.get_by_test_id("link-problem")).to_contain_text(
        "This link has already been used: INC-000001 was closed on"
    )
    expect(page.get_by_role("button", name="Yes, it's fixed")).to_have_count(0)

    page.goto(follow)  # and following it still shows how it ended
    expect(page.get_by_test_id("incident-state")).to_have_text("Closed")
    expect(page.get_by_text("Rated 5 out of 5.")).to_be_visible()
