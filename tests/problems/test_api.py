"""The problems API: create (with Idempotency-Key), retrieve, transitions with problem+json
refusals, incident links; requesters and other tenants are kept out."""

from __future__ import annotations

import pytest

from incidents.models import IncidentState
from problems.models import Problem, ProblemLink
from tests.problems.support import incident, problem

pytestmark = pytest.mark.django_db


def test_create_links_the_incidents_and_a_repeat_with_the_key_creates_nothing(people, api):
    a = incident(people)
    body = {
        "title": "Tunnels drop",
        "impact": "high",
        "urgency": "high",
        "incidents": [a.reference],
    }
    first = api.post("/api/v1/problems/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/problems/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert first.json()["number"] == "PRB-000001"
    assert first.json()["priority"] == "high"
    assert again.status_code == 201 and again.json() == first.json()
    assert Problem.objects.count() == 1
    assert ProblemLink.objects.get(incident=a).problem.number == 1


def test_transitions_and_their_refusals_as_problem_json(people, api):
    p = problem(people, incident(people))
    url = f"/api/v1/problems/{p.reference}/"
    refused = api.post(url + "known-error/", {"root_cause": "X", "workaround": ""}, format="json")
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("application/problem+json")
    assert "workaround" in refused.json()["errors"]
    wrong = api.post(url + "close/", {}, format="json")
    assert wrong.status_code == 409
    assert wrong.json()["allowed"] == ["investigate", "known_error", "cancel"]
    done = api.post(url + "known-error/", {"root_cause": "X", "workaround": "Y"}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "known_error"
    resolved = api.post(
        url + "resolve/",
        {"fix": "F", "change_reference": "CHG-1", "resolve_incidents": True},
        format="json",
    )
    assert resolved.json()["state"] == "resolved"
    assert p.links.get().incident.state == IncidentState.RESOLVED
    assert api.get(url).json()["change_reference"] == "CHG-1"


def test_link_list_and_unlink_incidents(people, api):
    p, a = problem(people), incident(people)
    url = f"/api/v1/problems/{p.number}/incidents/"
    assert api.post(url, {"incident": a.reference}, format="json").status_code == 201
    assert [row["number"] for row in api.get(url).json()] == [a.reference]
    again = api.post(url, {"incident": a.reference}, format="json")
    assert again.status_code == 400 and "already linked" in again.json()["detail"]
    assert api.delete(f"{url}{a.number}/").status_code == 204
    assert not ProblemLink.objects.exists()


def test_other_tenants_get_404_and_requesters_are_refused(people, api_for, session_for):
    p = problem(people)
    other = api_for(tenant=people.globex)
    assert other.get(f"/api/v1/problems/{p.number}/").status_code == 404
    assert other.get("/api/v1/problems/").json() == []
    rita = session_for(people.rita)
    assert rita.get(f"/api/v1/problems/{p.number}/").status_code == 403
    assert rita.post("/api/v1/problems/", {"title": "x"}, format="json").status_code == 403
