import pytest
from rest_framework.test import APIClient

from incidents.models import Incident, IncidentEvent
from tests.concurrency import run_together

TRIGGER = {
    "dedup_key": "db1/disk",
    "action": "trigger",
    "summary": "Disk 95% on db1",
    "impact": "high",
    "urgency": "high",
    "category": "network",
}


def test_a_trigger_creates_then_adds_to_the_same_incident(api, people):
    first = api.post("/api/v1/alerts/", TRIGGER, format="json")
    again = api.post("/api/v1/alerts/", {**TRIGGER, "summary": "Disk 97%"}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"]
    assert Incident.objects.count() == 1
    assert IncidentEvent.objects.filter(kind="alert").get().reason == "Disk 97%"


def test_a_resolve_resolves_the_matching_incident_and_a_new_trigger_opens_a_new_one(api, people):
    api.post("/api/v1/alerts/", TRIGGER, format="json")
    response = api.post(
        "/api/v1/alerts/", {"dedup_key": "db1/disk", "action": "resolve"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "resolved"
    assert "monitoring tool" in response.json()["resolution_notes"]
    api.post("/api/v1/incidents/INC-000001/close/", {}, format="json")
    again = api.post("/api/v1/alerts/", TRIGGER, format="json")
    assert again.status_code == 201 and again.json()["number"] == "INC-000002"


def test_resolving_an_unknown_key_is_404(api, people):
    response = api.post(
        "/api/v1/alerts/", {"dedup_key": "nope", "action": "resolve"}, format="json"
    )
    assert response.status_code == 404


def test_a_trigger_needs_a_summary(api, people):
    response = api.post("/api/v1/alerts/", {"dedup_key": "x"}, format="json")
    assert response.status_code == 400 and "summary" in response.json()["errors"]


# Fifty connections at once: one such test at a time, or two workers exhaust PostgreSQL's 100.
@pytest.mark.xdist_group("many_connections")
@pytest.mark.postgres
def test_fifty_concurrent_triggers_with_one_key_make_one_incident(
    transactional_db, people, make_key
):
    secret = make_key()

    def send() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client.post("/api/v1/alerts/", TRIGGER, format="json").status_code

    statuses = [value for _, value in run_together(*[send] * 50)]
    assert Incident.objects.count() == 1
    assert sorted(statuses) == [200] * 49 + [201]
    assert IncidentEvent.objects.filter(kind="alert").count() == 49
