import pytest

from incidents.models import Incident, IncidentEvent
from tenancy.models import Membership


def test_an_integration_creates_an_incident_and_is_its_actor(api, people):
    response = api.post(
        "/api/v1/incidents/",
        {
            "title": "Disk full on db1",
            "impact": "high",
            "urgency": "high",
            "category": "network",
            "reporter": {"email": "ops@partner.example", "name": "Ops Bot"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == "INC-000001"
    assert body["priority"] == "high" and body["priority_rank"] == 1
    assert body["state"] == "escalated" and body["group"] == "service-desk"
    assert body["reporter"] == {"email": "ops@partner.example", "name": "Ops Bot"}
    assert response["Location"] == "/api/v1/incidents/INC-000001/"
    assert response["ETag"] == f'"{body["version"]}"'
    event = IncidentEvent.objects.filter(kind="reported").get()
    assert (event.actor_kind, event.actor_name) == ("integration", "key-read-write-acme")


def test_a_deactivated_members_address_is_recorded_as_an_external_contact(api, people):
    Membership.objects.filter(tenant=people.acme, user=people.rita).update(is_active=False)
    person = {"email": "rita@acme.test", "name": "Rita (left the company)"}
    response = api.post(
        "/api/v1/incidents/", {"title": "Badge reader dead", "reporter": person}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["reporter"] == person
    assert Incident.objects.get().reporter_id is None


def test_a_wrong_impact_is_a_problem_with_a_field_map(api, people):
    response = api.post("/api/v1/incidents/", {"title": "x", "impact": "critical"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"] == "Invalid request"
    assert "impact" in body["errors"]
    assert Incident.objects.count() == 0


def test_a_transition_from_the_wrong_state_is_409_naming_the_allowed_ones(api, people):
    api.post("/api/v1/incidents/", {"title": "Printer"}, format="json")
    response = api.post(
        "/api/v1/incidents/INC-000001/resolve/",
        {"resolution_code": "solved-permanently", "resolution_notes": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == ["escalate", "cancel"]


def test_charlie_key_gets_404_for_acme_incident(api, api_for, people):
    api.post("/api/v1/incidents/", {"title": "Printer"}, format="json")
    other = api_for(tenant=people.globex)
    assert other.get("/api/v1/incidents/INC-000001/").status_code == 404
    assert other.get("/api/v1/incidents/").json()["results"] == []


@pytest.mark.parametrize("reporter", ["member", "contact", "none"])
def test_the_created_answer_is_the_incident_as_read_back(api, people, reporter):
    """The 201 is built from what the report wrote, not read back: it must say exactly what a
    GET of the incident says, routing, auto-assignment, reporter and version included."""
    people.group.auto_assign = True
    people.group.save(update_fields=["auto_assign"])
    body = {"title": "Disk full on db1", "impact": "high", "urgency": "low", "category": "network"}
    if reporter == "member":
        body["reporter"] = {"email": "RITA@acme.test"}
    elif reporter == "contact":
        body["reporter"] = {"email": "ops@partner.example", "name": "Ops Bot"}

    created = api.post("/api/v1/incidents/", body, format="json")
    assert created.status_code == 201, created.content
    read = api.get(created["Location"])

    assert created.json() == read.json()
    assert created["ETag"] == read["ETag"]
    assert created.json()["assignee"] in {"alice@acme.test", "bob@acme.test"}
    assert created.json()["version"] == 2  # reported, then escalated by routing


def test_an_unknown_or_retired_category_is_a_field_error_and_creates_nothing(api, people):
    people.network.is_active = False
    people.network.save(update_fields=["is_active"])
    for slug in ("network", "no-such-thing"):
        response = api.post(
            "/api/v1/incidents/", {"title": "Printer on fire", "category": slug}, format="json"
        )
        assert response.status_code == 400, response.content
        assert response.json()["errors"] == {"category": [f"No active category '{slug}' here."]}
    assert not Incident.objects.exists()
