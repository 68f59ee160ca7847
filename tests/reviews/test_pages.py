"""The review pages: who sees what (the same 404 for every refusal), the edit page keeps what
was typed when it refuses, the Markdown export, the desk's button and panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents import services as services_incidents
from reviews.models import ActionItem, Review, TimelineEntry
from tests.desk.desk_support import detail_url, queue_url, report
from tests.reviews.support import (
    alices_action,
    in_days,
    major_incident,
    published,
    review_url,
    started,
)


@pytest.fixture
def major(people):
    return major_incident(people)[0]


def test_the_incident_page_offers_review_this_incident_to_managers_only(people, login, major):
    assert "Review this incident" not in login(people.alice).get(detail_url(major)).content.decode()
    page = login(people.max).get(detail_url(major)).content.decode()
    assert "Review this incident" in page


def test_review_this_incident_starts_the_review_and_opens_its_edit_page(people, login, major):
    client = login(people.max)
    response = client.post(review_url(people, "review-start", major), follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Save the review" in html and "Mail relay queue is full" in html
    assert Review.objects.filter(incident=major).count() == 1


def test_agents_and_requesters_cannot_start_a_review(people, login, major):
    for user in (people.alice, people.rita):
        assert login(user).post(review_url(people, "review-start", major)).status_code == 404
    assert not Review.objects.exists()


def test_a_draft_is_404_for_agents_and_requesters(people, login, major):
    started(people, major)
    for user in (people.alice, people.rita):
        client = login(user)
        for name in ("review-detail", "review-edit", "review-export"):
            assert client.get(review_url(people, name, major)).status_code == 404


def test_a_published_review_is_read_by_agents_never_by_requesters(people, login, major):
    published(people, major)
    alice = login(people.alice)
    page = alice.get(review_url(people, "review-detail", major)).content.decode()
    assert "Mail was down" in page and "A full relay queue" in page
    assert "Edit the review" not in page
    assert alice.get(review_url(people, "review-edit", major)).status_code == 404
    rita = login(people.rita)
    assert rita.get(review_url(people, "review-detail", major)).status_code == 404
    assert rita.get(reverse("reviews-review-list", args=["acme"])).status_code == 404


def test_charlie_gets_404_for_acmes_review(people, login, major):
    published(people, major)
    client = login(people.charlie)
    for name in ("review-detail", "review-export"):
        assert client.get(review_url(people, name, major)).status_code == 404
    # On his own tenant the same number is no review of his either.
    url = reverse("reviews-review-detail", args=["globex", major.number])
    assert client.get(url).status_code == 404


def test_the_list_shows_reviews_and_resolved_major_incidents_awaiting_one(people, login, major):
    services_incidents.incident_resolve(
        incident=major,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Relay queue drained and resized",
    )
    started(people, report(people, "A printer"))
    url = reverse("reviews-review-list", args=["acme"])
    html = login(people.max).get(url).content.decode()
    assert "A printer" in html
    assert "Major incidents awaiting a review" in html and "Email down for all" in html
    alice_sees = login(people.alice).get(url).content.decode()
    assert "A printer" not in alice_sees and "Major incidents awaiting" not in alice_sees


def test_a_bad_entry_is_refused_with_a_message_and_the_text_kept(people, login, major):
    started(people, major)
    client = login(people.max)
    response = client.post(
        review_url(people, "entry-add", major),
        {"entry-at": "yesterday-ish", "entry-text": "Paged the on-call engineer"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give a date and time" in html and "Paged the on-call engineer" in html


def test_an_action_for_a_requester_is_refused_and_the_title_kept(people, login, major):
    started(people, major)
    response = login(people.max).post(
        review_url(people, "action-add", major),
        {
            "action-title": "Alert on queue depth",
            "action-owner": people.rita.pk,
            "action-due_date": "2030-01-31",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Alert on queue depth" in html and "Select a valid choice" in html
    assert not ActionItem.objects.exists()


def test_publishing_without_root_cause_says_so_and_keeps_the_draft(people, login, major):
    review = started(people, major)
    response = login(people.max).post(review_url(people, "review-publish", major))
    assert response.status_code == 400
    assert "root cause before publishing" in response.content.decode()
    assert Review.objects.get(pk=review.pk).state == "draft"


def test_the_manager_edits_adds_and_publishes_through_the_pages(people, login, major):
    started(people, major)
    client = login(people.max)
    fields = {
        "summary": "Mail down 40 min",
        "customer_impact": "Nobody could mail",
        "root_cause": "Relay queue full",
        "went_well": "Fast paging",
        "went_badly": "No alert",
    }
    assert client.post(review_url(people, "review-edit", major), fields).status_code == 302
    assert (
        client.post(
            review_url(people, "entry-add", major),
            {"entry-at": "2026-03-01T14:30", "entry-text": "Relay restarted"},
        ).status_code
        == 302
    )
    entry = TimelineEntry.objects.get(text="Relay restarted")
    assert (
        client.post(
            review_url(people, "entry-edit", major, pk=entry.pk),
            {
                f"entry-{entry.pk}-at": "2026-03-01T14:35",
                f"entry-{entry.pk}-text": "Relay rebooted",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            review_url(people, "action-add", major),
            {
                "action-title": "Alert on queue depth",
                "action-owner": people.alice.pk,
                "action-due_date": in_days(7).isoformat(),
            },
        ).status_code
        == 302
    )
    assert client.post(review_url(people, "review-publish", major)).status_code == 302
    html = login(people.alice).get(review_url(people, "review-detail", major)).content.decode()
    for text in ("Mail down 40 min", "Relay rebooted", "Alert on queue depth", "Published"):
        assert text in html


def test_export_is_a_markdown_download_built_from_the_review(people, login, major):
    alices_action(people, major, "Alert on queue depth", due_in_days=7)
    response = login(people.alice).get(review_url(people, "review-export", major))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert text.startswith(f"# Post-incident review: {major.reference} Email down for all")
    assert "## Root cause\n\nA full relay queue" in text
    assert "- [ ] Alert on queue depth (owner: Alice Agent" in text
    assert "Mail relay queue is full" in text


def test_the_owner_sees_her_action_on_the_desk_and_done_removes_it(people, login, major):
    item = alices_action(people, major, "Alert on queue depth", due_in_days=-2)
    alice = login(people.alice)
    html = alice.get(queue_url(people)).content.decode()
    assert "Your review actions" in html and "Alert on queue depth" in html and "Overdue" in html
    done = reverse("reviews-action-done", args=["acme", item.pk])
    response = alice.post(done, {"next": queue_url(people)})
    assert response.status_code == 302 and response["Location"] == queue_url(people)
    html = alice.get(queue_url(people)).content.decode()
    assert "Done: Alert on queue depth" in html  # the message; the panel has gone
    assert "Your review actions" not in html


def test_done_never_redirects_off_the_site(people, login, major):
    item = alices_action(people, major, "Fix", due_in_days=2)
    done = reverse("reviews-action-done", args=["acme", item.pk])
    response = login(people.alice).post(done, {"next": "https://evil.test/"})
    assert response["Location"] == review_url(people, "review-detail", major)


def test_bob_cannot_mark_alices_action_done_and_charlie_gets_404(people, login, major):
    item = alices_action(people, major, "Fix", due_in_days=2)
    done = reverse("reviews-action-done", args=["acme", item.pk])
    login(people.bob).post(done)
    assert not ActionItem.objects.get(pk=item.pk).done
    assert (
        login(people.charlie)
        .post(reverse("reviews-action-done", args=["globex", item.pk]))
        .status_code
        == 404
    )
    assert not ActionItem.objects.get(pk=item.pk).done
