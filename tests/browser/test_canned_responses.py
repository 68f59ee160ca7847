"""Canned responses in Chromium: an admin adds the organisation's in Settings, an agent adds her
own from the incident page, inserts them into a reply (the requester's name and the number
filled in, her own text kept) and sends it; a colleague never sees her own ones."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Comment
from incidents.services import canned
from tests.browser.test_desk_workflow import _sign_in
from tests.desk.desk_support import routed

pytestmark = pytest.mark.browser

WELCOME = "Hello {requester_name}, we are on {number} ({title})."


@pytest.fixture
def page_as(transactional_db, people, live_server, context, page):
    def open_as(user) -> Page:
        _sign_in(context, live_server, user)
        return page

    return open_as


def _admin_adds_welcome(page: Page, base: str) -> None:
    page.goto(f"{base}/t/acme/settings/")
    page.get_by_role("link", name="Canned responses").first.click()
    page.get_by_label("Name").fill("Welcome")
    # A typo in a placeholder is refused by name, and what was typed stays.
    page.get_by_label("Text").fill("Hello {requester_nmae}")
    page.get_by_role("button", name="Add the canned response").click()
    expect(page.get_by_text("Unknown placeholder {requester_nmae}.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Welcome")
    page.get_by_label("Text").fill(WELCOME)
    page.get_by_role("button", name="Add the canned response").click()
    expect(page.get_by_text("Saved the canned response “Welcome”.")).to_be_visible()
    expect(page.get_by_role("cell", name="Welcome", exact=True)).to_be_visible()


def _open_reply(page: Page, url: str):
    page.goto(url)
    reply = page.locator("#action-reply")
    reply.get_by_text("Public reply").first.click()
    return reply


def test_an_agent_inserts_canned_responses_into_a_reply_and_sends_it(people, live_server, page_as):
    base = live_server.url
    incident = routed(people, "VPN drops every hour")
    url = f"{base}/t/acme/desk/{incident.number}/"
    _admin_adds_welcome(page_as(people.ada), base)

    page = page_as(people.alice)
    reply = _open_reply(page, url)
    reply.get_by_role("link", name="Manage my canned responses").click()
    expect(page.get_by_role("heading", name="My canned responses")).to_be_visible()
    page.get_by_label("Name").fill("Signature")
    page.get_by_label("Text").fill("Kind regards, {agent_name}")
    page.get_by_role("button", name="Add the canned response").click()
    expect(page.get_by_role("cell", name="Signature", exact=True)).to_be_visible()

    reply = _open_reply(page, url)
    box = reply.get_by_label("Public reply")
    box.fill("Thanks for waiting.")
    reply.get_by_label("Canned response").select_option(label="Welcome")
    reply.get_by_role("button", name="Insert").click()
    welcome = f"Hello Rita Requester, we are on {incident.reference} (VPN drops every hour)."
    expect(box).to_have_value(f"Thanks for waiting.\n\n{welcome}")
    # At the cursor: the signature goes where the agent put it, after a new line she typed.
    box.press("End")
    box.press_sequentially("\n")
    reply.get_by_label("Canned response").select_option(label="Signature")
    reply.get_by_role("button", name="Insert").click()
    sent = f"Thanks for waiting.\n\n{welcome}\nKind regards, Alice Agent"
    expect(box).to_have_value(sent)

    reply.get_by_role("button", name="Public reply").click()
    expect(page.get_by_text(re.compile(r"^Reply sent on"))).to_be_visible()
    expect(page.locator(".incident-timeline").get_by_text(welcome)).to_be_visible()
    comment = Comment.objects.get(incident=incident)
    # A browser posts a textarea's line breaks as CRLF.
    assert comment.body.replace("\r\n", "\n") == sent and comment.public


def test_a_colleague_sees_the_organisations_responses_but_not_alices_own(
    people, live_server, page_as
):
    incident = routed(people, "Printer on fire")
    canned.canned_response_create(
        actor=people.actor(people.ada), name="Welcome", body=WELCOME, personal=False
    )
    alices = canned.canned_response_create(
        actor=people.actor(people.alice), name="Alice's own", body="Hi", personal=True
    )
    page = page_as(people.bob)
    url = f"{live_server.url}/t/acme/desk/{incident.number}/"
    picker = _open_reply(page, url).get_by_label("Canned response")
    expect(picker.locator("option", has_text="Welcome")).to_have_count(1)
    expect(picker.locator("option", has_text="Alice's own")).to_have_count(0)
    note = page.locator("#action-note")
    note.get_by_text("Internal note").first.click()
    note.get_by_label("Canned response").select_option(label="Welcome")
    note.get_by_role("button", name="Insert").click()
    expect(note.get_by_label("Internal note (agents only)")).to_have_value(
        f"Hello Rita Requester, we are on {incident.reference} (Printer on fire)."
    )
    edit = f"{live_server.url}/t/acme/settings/my-canned-responses/{alices.pk}/"
    assert page.goto(edit).status == 404
    # Bob is no admin: the organisation's page is a 404 to him.
    assert page.goto(f"{live_server.url}/t/acme/settings/canned-responses/").status == 404


def test_a_requester_never_sees_the_picker(people, live_server, page_as):
    incident = routed(people, "Mouse is dead")
    canned.canned_response_create(
        actor=people.actor(people.ada), name="Welcome", body=WELCOME, personal=False
    )
    page = page_as(people.rita)
    page.goto(f"{live_server.url}/t/acme/portal/incidents/{incident.number}/")
    expect(page.get_by_text("Mouse is dead").first).to_be_visible()
    expect(page.get_by_label("Canned response")).to_have_count(0)
    assert page.goto(f"{live_server.url}/t/acme/settings/my-canned-responses/").status == 404
