"""The problem pages: list, new, detail with its incidents and timeline, transition forms that
keep what was typed, the incident page's panel; requesters and charlie get 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import IncidentState
from problems.models import Problem, ProblemLink, ProblemState
from tests.problems.support import incident, known_error, problem

pytestmark = pytest.mark.django_db


def _url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_slug": "acme", **kwargs})


def test_the_list_shows_open_problems_with_their_incident_counts(people, login):
    p = problem(people, incident(people), incident(people, "VPN slow"))
    client = login(people.alice)
    page = client.get(_url("problems-problem-list")).content.decode()
    assert p.reference in page and p.title in page
    assert "2 (2)" in page


@pytest.mark.parametrize("who", ["rita", "charlie"])
def test_requesters_and_other_tenants_get_404(people, login, who):
    p = problem(people, incident(people))
    client = login(getattr(people, who))
    assert client.get(_url("problems-problem-list")).status_code == 404
    assert client.get(_url("problems-problem-detail", number=p.number)).status_code == 404
    assert client.get(_url("problems-problem-new")).status_code == 404
    done = client.post(
        _url("problems-problem-action", number=p.number, action="investigate"), {"note": ""}
    )
    assert done.status_code == 404
    assert Problem.objects.get(pk=p.pk).state == ProblemState.LOGGED


def test_a_new_problem_links_the_incidents_named(people, login):
    a, b = incident(people), incident(people, "VPN drops at noon")
    client = login(people.alice)
    response = client.post(
        _url("problems-problem-new"),
        {
            "title": "Tunnels drop",
            "impact": "high",
            "urgency": "medium",
            "owner": people.alice.pk,
            "incidents": f"{a.reference}, {b.number}",
        },
    )
    p = Problem.objects.get(tenant=people.acme)
    assert response.status_code == 302 and response["Location"].endswith(f"/{p.number}/")
    assert set(ProblemLink.objects.filter(problem=p).values_list("incident", flat=True)) == {
        a.pk,
        b.pk,
    }
    page = client.get(response["Location"]).content.decode()
    assert "2 linked, 2 open" in page
    assert a.reference in page and b.reference in page
    assert "Users affected in all" in page


def test_a_new_problem_with_an_unknown_incident_keeps_the_text(people, login):
    client = login(people.alice)
    response = client.post(
        _url("problems-problem-new"),
        {"title": "Tunnels drop", "impact": "high", "urgency": "medium", "incidents": "INC-999"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "There is no incident INC-000999 here." in page
    assert 'value="Tunnels drop"' in page
    assert not Problem.objects.exists()


def test_a_known_error_without_workaround_is_refused_and_keeps_the_root_cause(people, login):
    p = problem(people)
    client = login(people.alice)
    response = client.post(
        _url("problems-problem-action", number=p.number, action="known_error"),
        {"root_cause": "Firmware leaks slots", "workaround": ""},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Record the workaround agents can apply meanwhile." in page
    assert "Firmware leaks slots" in page
    assert Problem.objects.get(pk=p.pk).state == ProblemState.LOGGED


def test_resolving_from_the_page_resolves_the_open_incidents(people, login):
    a = incident(people)
    p = known_error(people, problem(people, a))
    client = login(people.alice)
    response = client.post(
        _url("problems-problem-action", number=p.number, action="resolve"),
        {"fix": "Firmware 4.3", "change_reference": "CHG-17", "resolve_incidents": "yes"},
        follow=True,
    )
    page = response.content.decode()
    assert f"Resolved with it: {a.reference}." in page
    assert "Firmware 4.3" in page
    a.refresh_from_db()
    assert a.state == IncidentState.RESOLVED


def test_the_incident_page_shows_the_workaround_of_its_known_error(people, login):
    a = incident(people)
    p = known_error(people, problem(people, a))
    client = login(people.bob)
    page = client.get(reverse("desk-incident-detail", args=["acme", a.number])).content.decode()
    assert 'data-testid="known-error-workaround"' in page
    assert p.workaround in page
    assert p.reference in page


def test_linking_from_the_incident_page_by_number(people, login):
    a = incident(people)
    p = problem(people)
    client = login(people.bob)
    response = client.post(_url("problems-incident-link", number=a.number), {"problem": "PRB-1"})
    assert response.status_code == 302
    assert ProblemLink.objects.get(incident=a).problem_id == p.pk


def test_a_wrong_problem_number_comes_back_with_the_text(people, login):
    a = incident(people)
    client = login(people.bob)
    response = client.post(
        _url("problems-incident-link", number=a.number), {"problem": "PRB-42"}, follow=True
    )
    page = response.content.decode()
    assert "There is no problem PRB-42 here." in page
    assert 'value="PRB-42"' in page


def test_link_and_apply_prefills_the_public_reply(people, login):
    p = known_error(people, problem(people, incident(people, "VPN drops every hour")))
    new = incident(people, "VPN drops every few minutes")
    client = login(people.bob)
    page = client.get(reverse("desk-incident-detail", args=["acme", new.number])).content.decode()
    assert "Link and apply the workaround" in page
    response = client.post(
        _url("problems-incident-apply", number=new.number, problem=p.number), follow=True
    )
    page = response.content.decode()
    assert ProblemLink.objects.get(incident=new).problem_id == p.pk
    assert '<details id="action-reply" open' in page
    assert f"{p.workaround}</textarea>" in page


def test_the_list_and_a_problem_page_run_a_fixed_number_of_queries(
    people, login, django_assert_max_num_queries
):
    client = login(people.alice)
    first = problem(people, incident(people))
    client.get(_url("problems-problem-list"))  # the first request also caches the tenant
    with django_assert_max_num_queries(16) as few:  # two pages: each its middleware and bell
        client.get(_url("problems-problem-list"))
        client.get(_url("problems-problem-detail", number=first.number))
    for n in range(6):
        problem(people, incident(people, f"VPN {n}"), incident(people, f"Mail {n}"), title=f"P{n}")
    busy = problem(people, *[incident(people, f"Disk {n}") for n in range(8)], title="Busy")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(_url("problems-problem-list"))
        client.get(_url("problems-problem-detail", number=busy.number))
