"""The desk's bulk actions for problems: link the selected incidents to a problem, or create a
problem from them; a refused row is named and the others still linked."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from problems.models import Problem, ProblemLink
from tests.problems.support import incident, problem

pytestmark = pytest.mark.django_db
BULK = reverse("desk-queue-bulk", kwargs={"tenant_slug": "acme"})


def _bulk(client, incidents, action: str, **fields):
    data = {
        "action": action,
        "incidents": [f"{i.number}:{i.version}" for i in incidents],
        "query": "queue=open",
        **fields,
    }
    return client.post(BULK, data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_link_to_problem_links_each_row_and_names_the_refused_one(people, login):
    a, b, c = incident(people, "A"), incident(people, "B"), incident(people, "C")
    target, other = problem(people), problem(people, c, title="Other")
    response = _bulk(login(people.alice), [a, b, c], "link_problem", problem=target.reference)
    assert response.status_code == 302
    linked = ProblemLink.objects.filter(problem=target).values_list("incident", flat=True)
    assert set(linked) == {a.pk, b.pk}
    assert ProblemLink.objects.get(incident=c).problem_id == other.pk
    assert f"Done for 2: {a.reference}, {b.reference}." in _messages(response)
    assert any(
        c.reference in m and "already linked to PRB-000002" in m for m in _messages(response)
    )


def test_link_to_an_unknown_problem_is_refused_with_the_number_kept(people, login):
    a = incident(people)
    response = _bulk(login(people.alice), [a], "link_problem", problem="PRB-77")
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is no problem PRB-77 here." in page
    assert 'value="PRB-77"' in page
    assert not ProblemLink.objects.exists()


def test_create_a_problem_from_the_selected_incidents(people, login):
    a, b = incident(people, "A"), incident(people, "B")
    response = _bulk(login(people.bob), [a, b], "create_problem", problem_title="Tunnels drop")
    assert response.status_code == 302
    p = Problem.objects.get(tenant=people.acme)
    assert p.title == "Tunnels drop"
    assert set(p.links.values_list("incident", flat=True)) == {a.pk, b.pk}
    assert f"{p.reference} created: Tunnels drop." in _messages(response)


def test_create_a_problem_needs_a_title(people, login):
    a = incident(people)
    response = _bulk(login(people.bob), [a], "create_problem", problem_title=" ")
    assert response.status_code == 400
    assert "Give the new problem a title." in response.content.decode()
    assert not Problem.objects.exists()
