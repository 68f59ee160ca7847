"""A review names its problem: the problem behind the reviewed incident or one of its
children shows on the review (its root cause standing in while the review has none) and in the
Markdown export, escaped; another tenant's problem never shows."""

from __future__ import annotations

import pytest

from problems import services as problems
from problems.models import ProblemLink
from reviews import services as reviews
from tests.problems.support import known_error, problem
from tests.reviews.support import major_incident, review_url, started

pytestmark = pytest.mark.django_db

TITLE = "Relay *queue* <b>full</b> [x](javascript:alert(1))"
ROOT_CAUSE = "# The relay queue\n- fills at 10k\n<script>alert(1)</script>"
WORKAROUND = "> Restart the relay, then `flush`"


def _problem_of_child(people):
    parent, child, _other = major_incident(people)
    p = problem(people, child, title=TITLE)
    p = problems.problem_record_known_error(
        problem=p, actor=people.actor(people.alice), root_cause=ROOT_CAUSE, workaround=WORKAROUND
    )
    return parent, p


def test_the_review_shows_the_problem_of_a_child_incident(people, login):
    parent, p = _problem_of_child(people)
    started(people, parent)
    page = login(people.max).get(review_url(people, "review-detail", parent)).content.decode()
    section = page.split('data-testid="review-problem"', 1)[1]
    assert 'href="/t/acme/problems/1/">PRB-000001</a>' in section
    assert "Relay *queue* &lt;b&gt;full&lt;/b&gt;" in section
    assert 'data-testid="review-problem-state">Known error<' in section
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<script>" not in section
    assert "Restart the relay, then `flush`" in section
    root = page.split('data-testid="review-root-cause"', 1)[1].split("</div>", 1)[0]
    assert "From PRB-000001:" in root and "fills at 10k" in root


def test_the_reviews_own_root_cause_comes_first(people, login):
    parent, _p = _problem_of_child(people)
    review = started(people, parent)
    reviews.review_edit(actor=people.actor(people.max), review=review, root_cause="Disk full")
    page = login(people.max).get(review_url(people, "review-detail", parent)).content.decode()
    root = page.split('data-testid="review-root-cause"', 1)[1].split("</div>", 1)[0]
    assert "Disk full" in root and "From PRB-000001" not in root
    assert 'data-testid="review-problem"' in page


def test_the_edit_page_offers_the_problems_root_cause_while_the_review_has_none(people, login):
    parent, _p = _problem_of_child(people)
    started(people, parent)
    client = login(people.max)
    page = client.get(review_url(people, "review-edit", parent)).content.decode()
    field = page.split('name="root_cause"', 1)[1].split("</textarea>", 1)[0]
    assert "fills at 10k" in field
    assert 'data-testid="root-cause-from-problem"' in page


def test_the_problem_of_the_incident_itself_wins_over_a_childs(people, login):
    parent, _childs = _problem_of_child(people)
    own = known_error(people, problem(people, parent, title="Mail relay out of disk"))
    started(people, parent)
    page = login(people.max).get(review_url(people, "review-detail", parent)).content.decode()
    section = page.split('data-testid="review-problem"', 1)[1]
    assert own.reference in section and "Mail relay out of disk" in section


def test_the_export_includes_the_problem_escaped(people, login):
    parent, _p = _problem_of_child(people)
    started(people, parent)
    text = login(people.max).get(review_url(people, "review-export", parent)).content.decode()
    assert "## Root cause\n\n_From PRB-000001:_\n\n\\# The relay queue\n\\- fills at 10k\n" in text
    problem_part = text.split("## Problem\n", 1)[1].split("## What went well", 1)[0]
    assert "- PRB-000001 Relay \\*queue\\* \\<b\\>full\\</b\\> \\[x\\](javascript:alert(1))" in (
        problem_part
    )
    assert "- State: Known error" in problem_part
    assert "- Link: <http://testserver/t/acme/problems/1/>" in problem_part
    assert "\\<script\\>alert(1)\\</script\\>" in problem_part
    assert "### Workaround\n\n\\> Restart the relay, then \\`flush\\`" in problem_part
    assert "<script>" not in text and "<b>" not in text


def test_a_review_without_a_problem_names_none(people, login):
    parent, _child, _other = major_incident(people)
    started(people, parent)
    client = login(people.max)
    assert (
        'data-testid="review-problem"'
        not in client.get(review_url(people, "review-detail", parent)).content.decode()
    )
    assert (
        "## Problem" not in client.get(review_url(people, "review-export", parent)).content.decode()
    )


def test_another_tenants_problem_is_never_shown(people, login):
    """A link row of another tenant (which no service writes) on an acme incident: the tenant
    in the query keeps it out. The database refuses such a row at commit (its composite key
    with the tenant, tests/test_tenant_keys.py); inside the test's transaction the deferred
    check has not run yet, so the query's own wall is tested alone."""
    parent, _child, _other = major_incident(people)
    charlie = people.actor(people.charlie, people.globex)
    theirs = problems.problem_log(actor=charlie, title="Globex secret problem")
    ProblemLink.objects.create(tenant=people.globex, problem=theirs, incident=parent)
    started(people, parent)
    client = login(people.max)
    page = client.get(review_url(people, "review-detail", parent)).content.decode()
    edit = client.get(review_url(people, "review-edit", parent)).content.decode()
    export = client.get(review_url(people, "review-export", parent)).content.decode()
    for text in (page, edit, export):
        assert "Globex secret problem" not in text and "PRB-" not in text
    ProblemLink.objects.filter(tenant=people.globex).delete()  # before the deferred check


def test_charlie_gets_404_for_the_review(people, login):
    parent, _p = _problem_of_child(people)
    started(people, parent)
    client = login(people.charlie)
    assert client.get(review_url(people, "review-detail", parent)).status_code == 404
    assert client.get(review_url(people, "review-export", parent)).status_code == 404
