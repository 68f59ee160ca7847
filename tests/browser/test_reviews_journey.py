"""A post-incident review in Chromium: a manager reviews a major incident (the timeline comes
prefilled), gives alice an action item and publishes; alice finds it on her desk and closes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from reviews import services
from tests.browser.session import sign_in
from tests.browser.test_accessibility import _assert_accessible
from tests.reviews.support import alices_action, in_days, major_incident, published

pytestmark = pytest.mark.browser


def test_a_manager_reviews_a_major_incident_and_alice_closes_her_action(
    transactional_db, people, live_server, context, page
):
    parent, child, _ = major_incident(people)
    base = live_server.url
    sign_in(context, base, people.max)
    page.goto(f"{base}/t/acme/desk/{parent.number}/")
    page.get_by_role("button", name="Review this incident").click()

    expect(page.get_by_role("heading", name=f"Review of {parent.reference}")).to_be_visible()
    timeline = page.get_by_test_id("review-timeline")
    expect(timeline).to_contain_text("Mail relay queue is full")  # the parent's internal note
    expect(timeline).to_contain_text(child.reference)  # a child's events too

    page.get_by_label("Root cause").fill("The relay's queue filled its disk")
    page.get_by_label("What went badly").fill("No alert on the queue's depth")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_text("The review is saved.")).to_be_visible()

    page.get_by_text("Add an action item").click()
    page.get_by_label("Action", exact=True).fill("Alert on the relay queue depth")
    page.get_by_label("Owner").select_option(label="Alice Agent")
    page.get_by_label("Due date").fill(in_days(5).isoformat())
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_test_id("review-actions")).to_contain_text("Alert on the relay queue depth")

    page.get_by_role("button", name="Publish the review").click()
    expect(page.get_by_test_id("review-state")).to_have_text("Published")

    context.clear_cookies()
    sign_in(context, base, people.alice)
    page.goto(f"{base}/t/acme/desk/")
    panel = page.get_by_test_id("review-actions-panel")
    expect(panel).to_contain_text("Alert on the relay queue depth")
    panel.get_by_role("button", name="Done: Alert on the relay queue depth").click()
    expect(page.get_by_text("Done: Alert on the relay queue depth")).to_be_visible()
    expect(page.get_by_test_id("review-actions-panel")).to_have_count(0)


def test_the_review_pages_and_the_desk_panel_have_no_wcag_violation(
    transactional_db, people, live_server, context, page
):
    parent = major_incident(people)[0]
    review = published(people, parent)
    services.action_item_add(
        actor=people.actor(people.max),
        review=review,
        title="Alert on the relay queue depth",
        owner=people.ada,
        due_date=in_days(-1),  # overdue: its mark is checked too
    )
    sign_in(context, live_server.url, people.ada)
    base = f"{live_server.url}/t/acme/"
    reviews = f"{base}reviews/"
    urls = [
        reviews,
        f"{reviews}{parent.number}/",
        f"{reviews}{parent.number}/edit/",
        f"{base}desk/",
    ]
    _assert_accessible(page, urls)


def test_the_dashboard_shows_the_overdue_review_actions(
    transactional_db, people, live_server, context, page
):
    alices_action(people, major_incident(people)[0], "Alert on the relay queue", due_in_days=-1)
    sign_in(context, live_server.url, people.max)
    page.goto(f"{live_server.url}/t/acme/dashboards/")
    figures = page.get_by_test_id("review-figures")
    expect(figures.get_by_test_id("overdue-review-actions")).to_have_text("1")
    expect(figures).to_contain_text("Alert on the relay queue")
