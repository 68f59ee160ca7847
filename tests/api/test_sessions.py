"""Browser sessions call the API under the pages' rules (and with CSRF)."""

import pytest

from incidents import services


@pytest.fixture
def two_incidents(people):
    rita = people.actor(people.rita)
    mine = services.incident_report(actor=rita, title="My laptop", category=people.network)
    services.comment_add(
        incident=mine, actor=people.actor(people.alice), body="Internal: reimage", public=False
    )
    services.comment_add(incident=mine, actor=people.actor(people.alice), body="On it")
    other = services.incident_report(actor=people.actor(people.bob), title="Bob's printer")
    return mine, other


def test_a_requester_lists_only_what_they_reported(session_for, people, two_incidents):
    body = session_for(people.rita).get("/api/v1/incidents/").json()
    assert [i["number"] for i in body["results"]] == ["INC-000001"]


def test_a_requester_gets_404_for_someone_elses_incident(session_for, people, two_incidents):
    assert session_for(people.rita).get("/api/v1/incidents/INC-000002/").status_code == 404


def test_a_requester_sees_only_public_comments_and_events(session_for, people, two_incidents):
    client = session_for(people.rita)
    comments = client.get("/api/v1/incidents/INC-000001/comments/").json()
    assert [c["body"] for c in comments] == ["On it"]
    events = client.get("/api/v1/incidents/INC-000001/events/").json()
    assert all(e["public"] for e in events)
    assert "note" not in {e["kind"] for e in events}


def test_an_agent_sees_internal_notes(session_for, people, two_incidents):
    comments = session_for(people.alice).get("/api/v1/incidents/INC-000001/comments/").json()
    assert [c["body"] for c in comments] == ["Internal: reimage", "On it"]


def test_a_requester_cannot_run_agent_transitions_or_write_notes(
    session_for, people, two_incidents
):
    client = session_for(people.rita)
    response = client.post(
        "/api/v1/incidents/INC-000001/hold/", {"hold_reason": "awaiting_vendor"}, format="json"
    )
    assert response.status_code == 403
    note = client.post(
        "/api/v1/incidents/INC-000001/comments/", {"body": "psst", "public": False}, format="json"
    )
    assert note.status_code == 403


def test_a_requester_reports_as_themself(session_for, people):
    response = session_for(people.rita).post(
        "/api/v1/incidents/",
        {"title": "Screen flickers", "reporter": {"email": "bob@acme.test"}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["reporter"]["email"] == "rita@acme.test"


def test_a_session_write_needs_the_csrf_token(session_for, people):
    client = session_for(people.alice, csrf=True)
    response = client.post("/api/v1/incidents/", {"title": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_user_with_two_tenants_names_one_with_x_tenant(session_for, people):
    from tenancy.models import Membership, Role

    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.AGENT)
    client = session_for(people.alice)
    assert client.get("/api/v1/incidents/").status_code == 400
    assert client.get("/api/v1/incidents/", HTTP_X_TENANT="globex").status_code == 200
    assert client.get("/api/v1/incidents/", HTTP_X_TENANT="initech").status_code == 404


def test_charlie_cannot_name_acme(session_for, people):
    response = session_for(people.charlie).get("/api/v1/incidents/", HTTP_X_TENANT="acme")
    assert response.status_code == 404
