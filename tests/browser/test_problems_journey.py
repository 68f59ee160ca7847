"""Problems in Chromium: an agent links three incidents to a new problem from the queue,
records its root cause and workaround, is offered the workaround on a fourth similar incident,
then resolves the problem and its incidents."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.models import Incident, IncidentState
from tests.browser.session import sign_in
from tests.problems.support import incident

pytestmark = pytest.mark.browser

WORKAROUND = "Reconnect the VPN client, then choose the Frankfurt gateway."


def _create_problem_from_the_queue(page: Page, base: str, incidents: list[Incident]) -> None:
    page.goto(f"{base}/t/acme/desk/?queue=open")
    for i in incidents:
        page.locator(f"#pick-{i.number}").check()
    page.get_by_text("Bulk actions on the selected rows").click()
    page.get_by_label("With the selected").select_option(
        label="Create a problem from these incidents"
    )
    page.get_by_label("New problem's title").fill("VPN concentrator drops tunnels")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("PRB-000001 created: VPN concentrator drops tunnels.")).to_be_visible()


def test_an_agent_works_a_problem_from_its_incidents_to_its_fix(
    transactional_db, people, live_server, context, page
):
    base = live_server.url
    three = [
        incident(people, "VPN drops every hour"),
        incident(people, "VPN drops at noon"),
        incident(people, "VPN drops after login"),
    ]
    sign_in(context, base, people.alice)
    _create_problem_from_the_queue(page, base, three)

    page.get_by_role("link", name="Problems and known errors").click()
    page.get_by_role("link", name="VPN concentrator drops tunnels").click()
    expect(page.get_by_test_id("problem-counts")).to_have_text("3 linked, 3 open")
    known = page.locator("#action-known_error")
    known.get_by_text("Record as known error").first.click()
    known.get_by_label("Root cause").fill("Firmware 4.2 leaks tunnel slots.")
    known.get_by_role("button", name="Record as known error").click()
    expect(known.get_by_text("Record the workaround agents can apply meanwhile.")).to_be_visible()
    expect(known.get_by_label("Root cause")).to_have_value("Firmware 4.2 leaks tunnel slots.")
    known.get_by_label("Workaround").fill(WORKAROUND)
    known.get_by_role("button", name="Record as known error").click()
    expect(page.get_by_test_id("problem-state")).to_have_text("Known error")

    page.goto(f"{base}/t/acme/desk/{three[0].number}/")
    expect(page.get_by_test_id("known-error-workaround")).to_contain_text(WORKAROUND)

    fourth = incident(people, "VPN drops every few minutes")
    page.goto(f"{base}/t/acme/desk/{fourth.number}/")
    expect(page.get_by_test_id("known-error-offer")).to_contain_text("PRB-000001")
    page.get_by_role("button", name="Link and apply the workaround").click()
    reply = page.locator("#action-reply")
    expect(reply.get_by_label("Public reply")).to_have_value(WORKAROUND)
    reply.get_by_label("Public reply").fill(WORKAROUND + " Sorry for the trouble.")
    reply.get_by_role("button", name="Public reply").click()
    expect(page.get_by_text("Sorry for the trouble.").first).to_be_visible()
    expect(page.get_by_test_id("linked-problem")).to_have_text("PRB-000001")

    page.get_by_test_id("linked-problem").click()
    expect(page.get_by_test_id("problem-counts")).to_have_text("4 linked, 4 open")
    resolve = page.locator("#action-resolve")
    resolve.get_by_text("Resolve").first.click()
    resolve.get_by_label("The fix").fill("Firmware 4.3 installed on both concentrators.")
    resolve.get_by_label("Change reference").fill("CHG-17")
    resolve.get_by_label(re.compile("Resolve them now")).check()
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("problem-state")).to_have_text("Resolved")
    expect(page.get_by_text(re.compile("Resolved with it: INC-"))).to_be_visible()
    expect(page.get_by_test_id("problem-counts")).to_have_text("4 linked, 0 open")

    page.goto(f"{base}/t/acme/desk/{fourth.number}/")
    expect(page.get_by_test_id("incident-state")).to_have_text("Resolved")
    expect(page.get_by_test_id("resolution")).to_contain_text("Solved (permanently)")
    expect(page.get_by_test_id("problem-fixed")).to_contain_text("CHG-17")
    states = set(Incident.objects.filter(tenant=people.acme).values_list("state", flat=True))
    assert states == {IncidentState.RESOLVED}
