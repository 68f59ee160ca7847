"""GET /api/v1/incidents/{number}/sla/: the incident's clocks as the desk's SLA panel shows
them, with their times, thresholds, pauses, policy, calendar and explanation. The desk's only."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from escalation.services.sweep import sweep_due
from incidents import services
from tests.api.helpers import problem
from tests.escalation.sla_helpers import MONDAY_10, report_high, short_targets


def at(**delta) -> str:
    return (MONDAY_10 + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def high(people, travel):
    """A high incident (routed to the group) with 24x7 targets of 100 s and 1000 s."""
    short_targets(people.acme, response=100, resolution=1000)
    return report_high(people)


def _clocks(client, incident) -> dict[str, dict]:
    response = client.get(f"/api/v1/incidents/{incident.reference}/sla/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["incident"] == incident.reference
    return {clock["metric"]: clock for clock in body["clocks"]}


def test_running_clocks_read_as_the_panel_shows_them(api, people, high, travel, login):
    travel(seconds=30)
    body = api.get(f"/api/v1/incidents/{high.reference}/sla/").json()
    assert [c["metric"] for c in body["clocks"]] == ["response", "resolution"]
    response = body["clocks"][0]
    assert response == response | {
        "state": "running",
        "status": "ok",
        "summary": "1 min 10 s left",
        "target_seconds": 100,
        "elapsed_seconds": 30,
        "remaining_seconds": 70,
        "percent_used": 30,
        "started_at": at(),
        "due_at": at(seconds=100),
        "paused": False,
        "paused_since": None,
        "met_at": None,
        "breached_at": None,
        "stopped_at": None,
        "warnings": [
            {"percent": 50, "at": at(seconds=50), "reached": False},
            {"percent": 80, "at": at(seconds=80), "reached": False},
        ],
        "pause_on": ["awaiting_caller"],
        "policy": {"id": response["policy"]["id"], "priority": "high"},
    }
    assert response["policy"]["id"] is not None
    assert response["calendar"]["always_open"] is True
    assert [(s["start"], s["end"], s["counted"]) for s in response["explanation"]] == [
        (at(), at(seconds=30), True)
    ]
    assert body["escalation"]["state"] == "climbing"
    # The same words as the panel on the desk's incident page.
    panel = login(people.alice).get(f"/t/acme/sla/incidents/{high.number}/panel/")
    assert response["summary"].encode() in panel.content


def test_passed_thresholds_and_the_breach_carry_their_times(api, people, high, travel):
    travel(seconds=55)
    sweep_due()
    warnings = _clocks(api, high)["response"]["warnings"]
    assert warnings == [
        {"percent": 50, "at": at(seconds=50), "reached": True},
        {"percent": 80, "at": at(seconds=80), "reached": False},
    ]
    assert _clocks(api, high)["response"]["status"] == "warning"
    travel(seconds=130)
    sweep_due()
    clock = _clocks(api, high)["response"]
    assert (clock["state"], clock["status"], clock["breached_at"]) == (
        "breached",
        "breached",
        at(seconds=100),
    )
    assert (clock["remaining_seconds"], clock["due_at"]) == (0, None)
    assert [w["reached"] for w in clock["warnings"]] == [True, True]


def test_an_acknowledged_response_is_met_and_a_caller_hold_pauses(api, people, high, travel):
    alice = people.actor(people.alice)
    travel(seconds=20)
    incident = services.incident_accept(incident=high, actor=alice)
    travel(seconds=60)
    services.incident_hold(incident=incident, actor=alice, hold_reason="awaiting_caller")
    travel(seconds=160)
    clocks = _clocks(api, high)
    assert (clocks["response"]["state"], clocks["response"]["met_at"]) == ("met", at(seconds=20))
    assert clocks["response"]["summary"].startswith("Met")
    resolution = clocks["resolution"]
    assert resolution == resolution | {
        "state": "paused",
        "paused": True,
        "paused_since": at(seconds=60),
        "pause_reason": "awaiting_caller",
        "elapsed_seconds": 60,
        "remaining_seconds": 940,
        "due_at": None,
    }
    assert [w["at"] for w in resolution["warnings"]] == [None, None]  # no times while paused
    assert [(s["end"], s["counted"]) for s in resolution["explanation"]] == [
        (at(seconds=60), True),
        (at(seconds=160), False),
    ]
    assert resolution["explanation"][1]["rule"].startswith("On hold (awaiting the caller)")


def test_a_read_only_key_may_read_it(api_for, people, high):
    assert api_for(("read",)).get(f"/api/v1/incidents/{high.reference}/sla/").status_code == 200


def test_a_requester_gets_404_even_for_their_own_incident(session_for, people, high):
    client = session_for(people.rita)
    assert client.get(f"/api/v1/incidents/{high.reference}/").status_code == 200
    body = problem(client.get(f"/api/v1/incidents/{high.reference}/sla/"), 404)
    assert "clock" not in str(body).lower()


def test_an_agents_session_reads_it(session_for, people, high):
    assert (
        session_for(people.bob).get(f"/api/v1/incidents/{high.reference}/sla/").status_code == 200
    )


def test_charlie_gets_404_and_no_key_gets_401(api_for, people, high):
    charlie = api_for(tenant=people.globex)
    problem(charlie.get(f"/api/v1/incidents/{high.reference}/sla/"), 404)
    problem(APIClient().get(f"/api/v1/incidents/{high.reference}/sla/"), 401)
    problem(api_for().get("/api/v1/incidents/INC-999999/sla/"), 404)


def test_the_query_count_does_not_grow_with_pauses_and_alerts(api, people, high, travel):
    url = f"/api/v1/incidents/{high.reference}/sla/"
    api.get(url)  # the key's last-used time is written once a minute: not part of the count
    with CaptureQueriesContext(connection) as few:
        assert api.get(url).status_code == 200
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=high, actor=alice)
    for minute in range(1, 6):
        travel(minutes=minute)
        incident = services.incident_hold(
            incident=incident, actor=alice, hold_reason="awaiting_caller"
        )
        travel(minutes=minute, seconds=30)
        incident = services.incident_resume(incident=incident, actor=alice)
    sweep_due()
    api.get(url)
    with CaptureQueriesContext(connection) as many:
        assert api.get(url).status_code == 200
    assert len(many) == len(few) <= 6
