"""Candidate problems in Chromium: a manager goes from the problems list to the candidates,
whose page has no WCAG 2.1 AA violation, and makes a problem of a cluster in one click."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from problems.models import Problem
from tests.browser.session import sign_in
from tests.browser.test_accessibility import _assert_accessible
from tests.problems.support import incident

pytestmark = pytest.mark.browser


def test_a_manager_makes_a_problem_of_a_cluster_in_one_click(
    transactional_db, people, live_server, context, page
):
    made = [incident(people, t) for t in ("VPN drops every hour", "vpn dropping every hour")]
    made.append(incident(people, "VPN drops every hour (site 4)"))
    sign_in(context, live_server.url, people.max)
    page.goto(f"{live_server.url}/t/acme/problems/")
    page.get_by_role("button", name="Candidate problems").click()
    row = page.get_by_test_id("candidate")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("VPN drops every hour")
    expect(row.get_by_test_id("candidate-count")).to_have_text("3")
    _assert_accessible(page, [page.url])
    row.get_by_role("button", name="Create problem").click()
    expect(page).to_have_url(re.compile(r"/t/acme/problems/1/$"))
    expect(page.get_by_text("PRB-000001 created, with 3 incidents linked.")).to_be_visible()
    problem = Problem.objects.get(tenant=people.acme)
    assert problem.links.count() == 3 and problem.title == "VPN drops every hour"
    page.goto(f"{live_server.url}/t/acme/problems/candidates/")
    expect(page.get_by_test_id("candidates-empty")).to_contain_text("No recurring incidents")
