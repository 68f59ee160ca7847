"""problem.* webhooks: an endpoint subscribed to them gets a signed delivery for each line of a
problem's timeline it asked for, with the problem's number, state and workaround."""

from __future__ import annotations

import json

from escalation.models import Notification
from escalation.services.webhooks import webhook_endpoint_create
from tests.problems.support import incident, known_error, problem


def _deliveries(people, event: str) -> list[dict]:
    rows = Notification.objects.for_tenant(people.acme).filter(channel="webhook", kind=event)
    return [json.loads(row.body) for row in rows.order_by("id")]


def _subscribe(people, events: list[str]) -> None:
    webhook_endpoint_create(
        actor=people.actor(people.ada), url="https://hooks.example.test/problems", events=events
    )


def test_a_subscribed_endpoint_hears_a_problem_logged_linked_and_made_a_known_error(people):
    _subscribe(people, ["problem.created", "problem.transitioned", "problem.linked"])
    first = incident(people)
    p = known_error(people, problem(people, first))

    created = _deliveries(people, "problem.created")
    assert [d["data"]["problem"]["number"] for d in created] == [p.reference]
    linked = _deliveries(people, "problem.linked")
    assert [d["data"]["incident"] for d in linked] == [first.reference]
    moved = _deliveries(people, "problem.transitioned")
    assert [d["data"]["to_state"] for d in moved][-1] == "known_error"
    last = moved[-1]["data"]["problem"]
    assert last["workaround"].startswith("Reconnect the VPN client")
    assert last["url"].endswith(f"/t/acme/problems/{p.number}/")


def test_an_endpoint_not_subscribed_hears_nothing_of_problems(people):
    _subscribe(people, ["incident.created", "sla.warning"])
    problem(people, incident(people))
    assert not Notification.objects.filter(channel="webhook", kind__startswith="problem.").exists()
