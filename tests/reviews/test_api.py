"""The reviews API: a manager starts one (with Idempotency-Key), edits its texts, timeline and
action items and publishes it, refusals as problem+json; agents read published reviews, an
action's owner marks it done; requesters are refused, other tenants get 404; the list's queries
are pinned."""

from __future__ import annotations

import pytest

from reviews.models import ActionItem, Review, TimelineEntry
from tests.api.helpers import problem
from tests.desk.desk_support import routed
from tests.reviews.support import in_days, major_incident, published, started

pytestmark = pytest.mark.django_db

LIST = "/api/v1/reviews/"


def _url(incident, tail: str = "") -> str:
    return f"{LIST}{incident.reference}/{tail}"


@pytest.fixture
def major(people):
    return major_incident(people)


@pytest.fixture
def max_(people, session_for):
    """Max, a manager, through the API with his browser session."""
    return session_for(people.max)


def test_a_manager_starts_a_review_and_a_repeat_with_the_key_replays_it(people, major, max_):
    parent = major[0]
    body = {"incident": parent.reference}
    first = max_.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    again = max_.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert first.status_code == 201, first.content
    review = first.json()
    assert (review["incident"], review["state"], review["author"]) == (
        parent.reference,
        "draft",
        "Max Manager",
    )
    assert review["summary"] == parent.title
    assert any(
        "Mail relay queue is full" in e["text"] and e["internal"] for e in review["timeline"]
    )
    assert first["Location"] == review["url"]
    assert again.status_code == 201 and again.json() == review
    assert again["Idempotent-Replayed"] == "true"
    without_key = max_.post(LIST, {"incident": str(parent.number)}, format="json")
    assert without_key.status_code == 200 and without_key.json()["url"] == review["url"]
    assert Review.objects.count() == 1


def test_starting_is_refused_to_agents_and_for_an_unknown_incident(
    people, major, session_for, max_
):
    alice = session_for(people.alice)
    refused = problem(alice.post(LIST, {"incident": major[0].reference}, format="json"), 403)
    assert refused["detail"] == "Only managers and admins can start a review."
    unknown = problem(max_.post(LIST, {"incident": "INC-999"}, format="json"), 400)
    assert unknown["errors"]["incident"] == ["No incident INC-999 here."]
    assert not Review.objects.exists()


def test_the_texts_are_edited_and_publishing_needs_a_summary_and_a_root_cause(people, major, max_):
    parent = major[0]
    started(people, parent)
    emptied = max_.patch(_url(parent), {"summary": "  "}, format="json")
    assert emptied.status_code == 200 and emptied.json()["summary"] == ""
    refused = problem(max_.post(_url(parent, "publish/")), 400)
    assert refused["detail"] == "Write a summary and a root cause before publishing."
    assert refused["errors"]["summary"] == [refused["detail"]]
    texts = {"summary": "Mail was down", "root_cause": "A full relay queue", "went_well": "Fast"}
    edited = max_.patch(_url(parent), texts, format="json").json()
    assert (edited["root_cause"], edited["went_well"], edited["went_badly"]) == (
        "A full relay queue",
        "Fast",
        "",
    )
    done = max_.post(_url(parent, "publish/"))
    assert done.status_code == 200 and done.json()["state"] == "published"
    assert done.json()["published_at"]


def test_timeline_entries_are_added_edited_and_removed(people, major, max_):
    parent = major[0]
    review = started(people, parent)
    before = TimelineEntry.objects.filter(review=review).count()
    url = _url(parent, "timeline/")
    bad_time = problem(max_.post(url, {"at": "yesterday", "text": "x"}, format="json"), 400)
    assert bad_time["errors"]["at"] == ["Give the time it happened, like 2026-03-01T14:30:00Z."]
    far = problem(max_.post(url, {"at": "9999-01-01T00:00:00Z", "text": "x"}, format="json"), 400)
    assert far["errors"]["at"] == ["Give a date between 1970-01-01 and 2999-12-31."]
    blank = problem(max_.post(url, {"at": "2026-03-01T14:30:00Z", "text": " "}, format="json"), 400)
    assert blank["errors"]["text"] == ["Write the entry's text."]
    added = max_.post(url, {"at": "2026-03-01T14:30:00Z", "text": "Relay restarted"}, format="json")
    assert added.status_code == 201, added.content
    entry = added.json()
    assert entry["text"] == "Relay restarted" and entry["internal"] is False
    edited = max_.patch(f"{url}{entry['id']}/", {"text": "Relay restarted by Bob"}, format="json")
    assert edited.json()["text"] == "Relay restarted by Bob"
    assert edited.json()["at"] == entry["at"]
    assert len(max_.get(url).json()) == before + 1
    assert max_.delete(f"{url}{entry['id']}/").status_code == 204
    problem(max_.delete(f"{url}{entry['id']}/"), 404)
    assert TimelineEntry.objects.filter(review=review).count() == before


def test_action_items_need_an_agent_owner_and_the_owner_marks_hers_done(
    people, major, max_, session_for
):
    parent = major[0]
    published(people, parent)
    url = _url(parent, "actions/")
    action = {"title": "Alert on the relay queue", "due_date": str(in_days(7))}
    requester = problem(max_.post(url, {**action, "owner": "rita@acme.test"}, format="json"), 400)
    assert requester["errors"]["owner"] == ["The owner must be one of this desk's agents."]
    stranger = problem(max_.post(url, {**action, "owner": "zed@acme.test"}, format="json"), 400)
    assert stranger["errors"]["owner"] == ["zed@acme.test is not a member of this desk."]
    no_date = problem(
        max_.post(url, {"title": "T", "owner": "alice@acme.test"}, format="json"), 400
    )
    assert no_date["errors"]["due_date"] == ["Give the action a due date."]
    added = max_.post(url, {**action, "owner": "alice@acme.test"}, format="json")
    assert added.status_code == 201, added.content
    item = added.json()
    assert (item["owner"], item["done"], item["overdue"]) == ("alice@acme.test", False, False)
    alice, bob = session_for(people.alice), session_for(people.bob)
    problem(bob.post(f"{url}{item['id']}/done/"), 403)
    done = alice.post(f"{url}{item['id']}/done/", {}, format="json")
    assert done.status_code == 200 and done.json()["done"] is True and done.json()["done_at"]
    undone = alice.post(f"{url}{item['id']}/done/", {"done": False}, format="json")
    assert undone.json()["done"] is False
    problem(alice.delete(f"{url}{item['id']}/"), 403)
    assert max_.delete(f"{url}{item['id']}/").status_code == 204
    assert not ActionItem.objects.exists()


def test_agents_read_published_reviews_but_not_others_drafts(
    people, major, api, session_for, api_for
):
    parent, child, _ = major
    published(people, parent)
    draft_of = routed(people, "Printer offline")
    started(people, draft_of)
    alice = session_for(people.alice)
    assert [row["incident"] for row in alice.get(LIST).json()] == [parent.reference]
    problem(alice.get(_url(draft_of)), 404)
    assert alice.get(_url(parent)).json()["state"] == "published"
    refused = problem(alice.patch(_url(parent), {"summary": "Mine"}, format="json"), 403)
    assert refused["detail"] == "Only managers, admins and the review's author can change it."
    problem(alice.post(_url(parent, "timeline/"), {"at": "soon"}, format="json"), 403)
    # An agent's key has no user: it is nobody's author, not the author of a review without one.
    admin_key = api_for(("read", "write", "admin"))
    keyed = routed(people, "Scanner offline")
    assert admin_key.post(LIST, {"incident": keyed.reference}, format="json").status_code == 201
    assert {row["incident"] for row in api.get(LIST).json()} == {parent.reference}
    problem(api.get(_url(keyed)), 404)
    problem(api.patch(_url(parent), {"summary": "Mine"}, format="json"), 403)
    assert Review.objects.get(incident=parent).summary == "Mail was down"


def test_requesters_are_refused_and_other_tenants_get_404(people, major, session_for, api_for):
    parent = major[0]
    published(people, parent)
    rita = session_for(people.rita)
    assert problem(rita.get(LIST), 403)["detail"] == "Only the desk's agents may do that."
    problem(rita.get(_url(parent)), 403)
    problem(rita.post(LIST, {"incident": parent.reference}, format="json"), 403)
    charlie = api_for(("read", "write", "admin"), tenant=people.globex)
    assert charlie.get(LIST).json() == []
    problem(charlie.get(_url(parent)), 404)
    problem(charlie.patch(_url(parent), {"summary": "Mine"}, format="json"), 404)
    problem(charlie.get(_url(parent, "timeline/")), 404)
    problem(charlie.post(LIST, {"incident": parent.reference}, format="json"), 400)
    assert Review.objects.get().summary == "Mail was down"


# the session, the user, the memberships counted and read (tenancy/api/auth.py), the reviews
# with their incidents
LIST_QUERIES = 5


def test_the_list_runs_a_fixed_number_of_queries(people, max_, django_assert_num_queries):
    started(people, routed(people, "First"))
    with django_assert_num_queries(LIST_QUERIES):
        assert len(max_.get(LIST).json()) == 1
    for i in range(8):
        started(people, routed(people, f"Incident {i}"))
    with django_assert_num_queries(LIST_QUERIES):
        assert len(max_.get(LIST).json()) == 9
