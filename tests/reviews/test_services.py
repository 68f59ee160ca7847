"""Reviews through their services: starting one fills the timeline, who may edit and publish,
action items and their owners."""

from __future__ import annotations

import pytest

from reviews import services
from reviews.models import ReviewState, TimelineEntry
from reviews.selectors import open_actions_for_owner, overdue_actions_count, reviews_for_actor
from tenancy.errors import InvalidInput, NotAllowed
from tests.desk.desk_support import report
from tests.reviews.support import in_days, major_incident, published, started


@pytest.fixture
def major(people):
    return major_incident(people)


def test_starting_a_review_fills_the_timeline_from_the_incident_and_its_children(people, major):
    parent, child, other = major
    review = started(people, parent)
    texts = list(TimelineEntry.objects.filter(review=review).values_list("text", flat=True))
    assert any(t.startswith(f"{parent.reference}:") and "Reported" in t for t in texts)
    assert any(t.startswith(f"{child.reference}:") for t in texts)
    assert any(t.startswith(f"{other.reference}:") for t in texts)
    note = TimelineEntry.objects.get(review=review, text__contains="Mail relay queue is full")
    assert note.internal
    reply = TimelineEntry.objects.get(review=review, text__contains="We are on it, sorry")
    assert not reply.internal
    times = [e.at for e in TimelineEntry.objects.filter(review=review)]
    assert times == sorted(times)
    assert review.state == ReviewState.DRAFT and review.author_id == people.max.pk


def test_starting_twice_opens_the_same_review(people, major):
    parent = major[0]
    first = started(people, parent)
    assert started(people, parent, by=people.ada).pk == first.pk
    assert TimelineEntry.objects.filter(review=first).count() > 0


def test_only_managers_and_admins_start_a_review(people, major):
    for user in (people.alice, people.rita):
        with pytest.raises(NotAllowed):
            started(people, major[0], by=user)
    assert started(people, report(people, "Any incident"), by=people.ada).pk


def test_an_agent_cannot_edit_a_review_she_did_not_write(people, major):
    review = started(people, major[0])
    with pytest.raises(NotAllowed):
        services.review_edit(actor=people.actor(people.alice), review=review, summary="Mine")


def test_publishing_needs_a_summary_and_a_root_cause(people, major):
    manager = people.actor(people.max)
    review = services.review_edit(actor=manager, review=started(people, major[0]), summary="")
    with pytest.raises(InvalidInput, match="summary and a root cause"):
        services.review_publish(actor=manager, review=review)
    review = services.review_edit(actor=manager, review=review, summary="S", root_cause="R")
    review = services.review_publish(actor=manager, review=review)
    assert review.state == ReviewState.PUBLISHED and review.published_at is not None


def test_drafts_are_for_managers_and_the_author_published_for_every_agent(people, major):
    review = started(people, major[0])
    alice, rita = people.actor(people.alice), people.actor(people.rita)
    assert list(reviews_for_actor(actor=alice)) == []
    assert list(reviews_for_actor(actor=people.actor(people.ada))) == [review]
    published(people, major[0])
    assert list(reviews_for_actor(actor=alice)) == [review]
    assert list(reviews_for_actor(actor=rita)) == []
    charlie = people.actor(people.charlie, people.globex)
    assert list(reviews_for_actor(actor=charlie)) == []


def test_timeline_entries_are_added_edited_and_removed(people, major):
    manager = people.actor(people.max)
    review = started(people, major[0])
    at = major[0].reported_at
    entry = services.timeline_entry_add(actor=manager, review=review, at=at, text=" Paged on-call ")
    assert entry.text == "Paged on-call"
    entry = services.timeline_entry_edit(actor=manager, entry=entry, at=at, text="Paged Bob")
    assert TimelineEntry.objects.get(pk=entry.pk).text == "Paged Bob"
    with pytest.raises(InvalidInput, match="Write the entry"):
        services.timeline_entry_edit(actor=manager, entry=entry, at=at, text="   ")
    services.timeline_entry_remove(actor=manager, entry=entry)
    assert not TimelineEntry.objects.filter(pk=entry.pk).exists()


def test_an_action_item_needs_an_agent_of_the_tenant_as_owner(people, major):
    manager = people.actor(people.max)
    review = started(people, major[0])
    for owner in (people.rita, people.charlie):
        with pytest.raises(InvalidInput, match="one of this desk's agents"):
            services.action_item_add(
                actor=manager, review=review, title="Fix", owner=owner, due_date=in_days(3)
            )
    with pytest.raises(InvalidInput, match="due date"):
        services.action_item_add(
            actor=manager, review=review, title="Fix", owner=people.alice, due_date=None
        )
    item = services.action_item_add(
        actor=manager, review=review, title="Fix", owner=people.alice, due_date=in_days(3)
    )
    assert item.owner == people.alice and not item.done


def test_actions_reach_the_owner_once_published_and_leave_when_done(people, major):
    manager = people.actor(people.max)
    review = started(people, major[0])
    item = services.action_item_add(
        actor=manager,
        review=review,
        title="Alert on the relay queue",
        owner=people.alice,
        due_date=in_days(-1),
    )
    assert list(open_actions_for_owner(tenant=people.acme, user=people.alice)) == []
    published(people, major[0])
    assert list(open_actions_for_owner(tenant=people.acme, user=people.alice)) == [item]
    assert overdue_actions_count(tenant=people.acme) == 1
    with pytest.raises(NotAllowed):
        services.action_item_set_done(actor=people.actor(people.bob), item=item)
    item = services.action_item_set_done(actor=people.actor(people.alice), item=item)
    assert item.done and item.done_at is not None
    assert list(open_actions_for_owner(tenant=people.acme, user=people.alice)) == []
    assert overdue_actions_count(tenant=people.acme) == 0
