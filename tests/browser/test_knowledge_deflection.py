"""Portal deflection in Chromium: a requester typing a report's title is offered a published
article; "This solved it" ends the report without an incident and counts the deflection;
"Not what I need" carries on with the typed text kept."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident
from knowledge import services
from knowledge.models import Audience, Deflection
from knowledge.services import ArticleText
from tests.browser.session import sign_in

pytestmark = [pytest.mark.browser]


@pytest.fixture
def vpn_article(people):
    alice = people.actor(people.alice)
    article = services.article_create(
        actor=alice,
        text=ArticleText(
            title="Reset your VPN certificate",
            body="Open the VPN app and choose **Renew certificate**.",
            audience=Audience.REQUESTERS,
        ),
    )
    services.article_create(
        actor=alice,
        text=ArticleText(title="VPN concentrator internals", body="For the desk only."),
    )
    return services.article_publish(actor=alice, article=article)


def open_report(page: Page, base: str, people) -> None:
    sign_in(page.context, base, people.rita)
    page.goto(f"{base}/t/acme/portal/report/")
    expect(page.get_by_role("heading", name="Report an incident")).to_be_visible()


def test_this_solved_it_ends_the_report_without_an_incident(
    live_server, page: Page, people, vpn_article, transactional_db
):
    open_report(page, live_server.url, people)
    page.get_by_label("Title").press_sequentially("VPN certificate expired", delay=20)
    offered = page.get_by_test_id("suggested-articles")
    expect(offered.get_by_role("link", name="Reset your VPN certificate")).to_be_visible()
    expect(offered).not_to_contain_text("concentrator")  # agents only
    offered.get_by_role("button", name="This solved it: Reset your VPN certificate").click()
    expect(page.get_by_text("No incident was reported.")).to_be_visible()
    assert page.url.endswith("/t/acme/portal/")
    assert not Incident.objects.exists()
    deflection = Deflection.objects.get()
    assert (deflection.article, deflection.user) == (vpn_article, people.rita)
    assert deflection.text == "VPN certificate expired"


def test_this_solved_it_records_the_title_as_it_is_when_clicked(
    live_server, page: Page, people, vpn_article, transactional_db
):
    """The suggestions were drawn for the title typed so far; a click before they are drawn
    again (htmx waits 400 ms after the last key) records the whole title, not the old one."""
    open_report(page, live_server.url, people)
    title = page.get_by_label("Title")
    title.press_sequentially("VPN certificate expired", delay=20)
    offered = page.get_by_test_id("suggested-articles")
    expect(offered.get_by_role("link", name="Reset your VPN certificate")).to_be_visible()
    title.press_sequentially(" on my laptop")
    offered.get_by_role("button", name="This solved it: Reset your VPN certificate").click()
    expect(page.get_by_text("No incident was reported.")).to_be_visible()
    assert Deflection.objects.get().text == "VPN certificate expired on my laptop"


def test_not_what_i_need_carries_on_with_the_text_kept(
    live_server, page: Page, people, vpn_article, transactional_db
):
    open_report(page, live_server.url, people)
    title = page.get_by_label("Title")
    title.press_sequentially("VPN certificate expired", delay=20)
    offered = page.get_by_test_id("suggested-articles")
    expect(offered).to_be_visible()
    offered.get_by_role("button", name="Not what I need").click()
    expect(offered).to_have_count(0)
    expect(title).to_have_value("VPN certificate expired")
    assert not Deflection.objects.exists()
