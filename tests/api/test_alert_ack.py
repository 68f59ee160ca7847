"""GET /api/v1/incidents/{number}/alerts/ and POST .../alerts/{id}/acknowledge/: the incident's
SLA and escalation alerts, acknowledged through the API as from the desk's button: the climb
stops, and a second acknowledgement is harmless and says so."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from escalation.models import AlertKind, EscalationRun, SlaAlert
from escalation.services.alerts import alert_acknowledge
from escalation.services.sweep import sweep_due
from incidents.models import IncidentEvent
from tenancy.errors import InvalidInput
from tests.api.helpers import problem
from tests.concurrency import run_together
from tests.escalation.sla_helpers import fast_escalation, report_high


@pytest.fixture
def climbing(people, travel):
    """An escalated incident whose climb has sent level 1 (the managers) and waits for 2."""
    fast_escalation(people.acme, (60, "manager", None), (60, "user", people.ada))
    incident = report_high(people)
    travel(seconds=61)
    sweep_due()
    return incident


def _escalation_alert(incident) -> SlaAlert:
    return SlaAlert.objects.get(incident_id=incident.pk, kind=AlertKind.ESCALATION)


def _ack_url(incident, alert) -> str:
    return f"/api/v1/incidents/{incident.reference}/alerts/{alert.pk}/acknowledge/"


def _levels(incident) -> list[int | None]:
    alerts = SlaAlert.objects.filter(incident_id=incident.pk, kind=AlertKind.ESCALATION)
    return list(alerts.order_by("level").values_list("level", flat=True))


def test_the_desk_lists_an_incidents_alerts(api, people, climbing):
    alerts = api.get(f"/api/v1/incidents/{climbing.reference}/alerts/").json()
    assert [(a["kind"], a["level"]) for a in alerts] == [("escalation", 1), ("assigned", None)]
    step = alerts[0]
    assert step == step | {
        "acknowledged_at": None,
        "acknowledged_by": None,
        "acknowledged_via": "",
        "links": {"acknowledge": _ack_url(climbing, _escalation_alert(climbing))},
    }
    assert step["id"] == _escalation_alert(climbing).pk and step["due_at"] and step["created_at"]


def test_a_key_acknowledges_and_the_climb_stops(api, people, climbing, travel, login):
    alert = _escalation_alert(climbing)
    response = api.post(_ack_url(climbing, alert))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["already_acknowledged"] is False
    assert body["alert"]["acknowledged_by"] == {
        "kind": "integration",
        "name": "key-read-write-acme",
        "email": None,
    }
    assert (body["alert"]["acknowledged_via"], body["escalation"]["state"]) == (
        "api",
        "acknowledged",
    )
    travel(hours=1)
    sweep_due()
    assert _levels(climbing) == [1]  # level 2 never came
    page = login(people.alice).get(f"/t/acme/sla/incidents/{climbing.number}/")
    assert b'data-testid="climbing"' not in page.content
    event = IncidentEvent.objects.filter(incident=climbing, reason__startswith="Alert ack").get()
    assert (event.actor_kind, event.actor_name, event.public) == (
        "integration",
        "key-read-write-acme",
        False,
    )


def test_without_acknowledging_the_climb_goes_on(api, people, climbing, travel):
    travel(hours=1)
    sweep_due()
    assert _levels(climbing) == [1, 2]


def test_acknowledging_twice_is_fine_and_says_so(api, people, climbing, session_for):
    alert = _escalation_alert(climbing)
    first = api.post(_ack_url(climbing, alert)).json()
    again = session_for(people.alice).post(_ack_url(climbing, alert))
    assert again.status_code == 200
    assert again.json()["already_acknowledged"] is True
    assert again.json()["alert"]["acknowledged_at"] == first["alert"]["acknowledged_at"]
    assert again.json()["alert"]["acknowledged_by"]["name"] == "key-read-write-acme"
    assert IncidentEvent.objects.filter(reason__startswith="Alert ack").count() == 1
    # The desk's button, pressed after the key's acknowledgement, says who had it.
    with pytest.raises(InvalidInput, match="already acknowledged by an integration"):
        alert_acknowledge(alert=alert, actor=people.actor(people.bob))


def test_an_agents_session_acknowledges_as_the_agent(session_for, people, climbing):
    alert = _escalation_alert(climbing)
    body = session_for(people.alice).post(_ack_url(climbing, alert)).json()
    assert body["alert"]["acknowledged_by"] == {
        "kind": "member",
        "name": "Alice Agent",
        "email": "alice@acme.test",
    }
    run = EscalationRun.objects.get(incident=climbing)
    assert (run.state, run.acknowledged_by, run.acknowledged_via) == (
        "acknowledged",
        people.alice,
        "api",
    )


def test_a_read_only_key_gets_403_and_nothing_changes(api_for, people, climbing):
    alert = _escalation_alert(climbing)
    reader = api_for(("read",))
    assert reader.get(f"/api/v1/incidents/{climbing.reference}/alerts/").status_code == 200
    assert "read-only" in problem(reader.post(_ack_url(climbing, alert)), 403)["detail"]
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert EscalationRun.objects.get(incident=climbing).state == "climbing"


def test_a_requester_gets_404_for_the_alerts_of_their_own_incident(session_for, people, climbing):
    client = session_for(people.rita)
    problem(client.get(f"/api/v1/incidents/{climbing.reference}/alerts/"), 404)
    problem(client.post(_ack_url(climbing, _escalation_alert(climbing))), 404)
    assert _escalation_alert(climbing).acknowledged_at is None


def test_charlie_gets_404_and_no_key_gets_401(api_for, people, climbing):
    alert = _escalation_alert(climbing)
    charlie = api_for(tenant=people.globex)
    problem(charlie.get(f"/api/v1/incidents/{climbing.reference}/alerts/"), 404)
    problem(charlie.post(_ack_url(climbing, alert)), 404)
    problem(APIClient().post(_ack_url(climbing, alert)), 401)
    assert _escalation_alert(climbing).acknowledged_at is None


def test_an_alert_of_another_incident_or_none_at_all_is_404(api, people, climbing):
    other = report_high(people)
    problem(api.post(_ack_url(other, _escalation_alert(climbing))), 404)
    for alert_id in ("999999", "9" * 30):
        url = f"/api/v1/incidents/{climbing.reference}/alerts/{alert_id}/acknowledge/"
        problem(api.post(url), 404)
    assert _escalation_alert(climbing).acknowledged_at is None


def test_an_idempotency_key_replays_the_first_answer(api, people, climbing):
    url = _ack_url(climbing, _escalation_alert(climbing))
    first = api.post(url, HTTP_IDEMPOTENCY_KEY="ack-1")
    again = api.post(url, HTTP_IDEMPOTENCY_KEY="ack-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again.json()["already_acknowledged"] is False


def test_the_list_costs_a_fixed_number_of_queries(api, people, climbing, travel):
    url = f"/api/v1/incidents/{climbing.reference}/alerts/"
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    api.post(_ack_url(climbing, _escalation_alert(climbing)))
    travel(hours=2)
    sweep_due()  # warnings and breaches of both clocks
    api.get(url)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url).json()) > 4
    assert len(many) == len(few) <= 6


@pytest.mark.django_db(transaction=True)
def test_two_acknowledgements_at_once_stop_the_climb_once(people, make_key, travel):
    fast_escalation(people.acme, (60, "manager", None), (60, "user", people.ada))
    incident = report_high(people)
    travel(seconds=61)
    sweep_due()
    url = _ack_url(incident, _escalation_alert(incident))
    keys = [make_key(name=f"bot-{n}") for n in range(2)]

    def ack(key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        response = client.post(url)
        return response.status_code, response.json()["already_acknowledged"]

    outcomes = run_together(*[lambda key=key: ack(key) for key in keys])
    assert sorted(result for _, result in outcomes) == [(200, False), (200, True)]
    assert IncidentEvent.objects.filter(reason__startswith="Alert ack").count() == 1
