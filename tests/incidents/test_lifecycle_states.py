"""Every state x transition pair of docs/design.md's table, plus resolution at first contact."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.errors import InvalidTransition
from incidents.models import Incident, IncidentEvent
from tests.incidents.build import (
    ALLOWED_FROM,
    STATES,
    TARGET,
    TRANSITIONS,
    allowed_in,
    incident_in,
    snapshot,
    transition_call,
)

PAIRS = [(state, name) for state in STATES for name in TRANSITIONS]
ALLOWED = [pair for pair in PAIRS if pair[0] in ALLOWED_FROM[pair[1]]]
REFUSED = [pair for pair in PAIRS if pair[0] not in ALLOWED_FROM[pair[1]]]


def test_the_table_covers_all_fifty_six_pairs():
    assert len(ALLOWED) + len(REFUSED) == 56
    assert len(ALLOWED) == 16


@pytest.mark.parametrize(("state", "name"), ALLOWED)
def test_an_allowed_transition_moves_the_state_and_writes_one_event(people, state, name):
    incident = incident_in(people, state)
    assert incident.state == state
    before_events = IncidentEvent.objects.filter(incident=incident).count()
    user, call = transition_call(people, name)

    returned = call(incident)

    stored = Incident.objects.get(pk=incident.pk)
    assert returned.state == stored.state == TARGET[name]
    assert stored.version == incident.version + 1
    events = IncidentEvent.objects.filter(incident=incident).order_by("id")
    assert events.count() == before_events + 1
    event = events.last()
    assert (event.kind, event.transition) == ("transition", name)
    assert (event.from_state, event.to_state) == (state, TARGET[name])
    assert event.actor_kind == "member"
    assert event.actor_user_id == user.pk
    assert event.actor_name == user.full_name
    assert event.incident_version == stored.version
    assert event.tenant_id == people.acme.pk


@pytest.mark.parametrize(("state", "name"), REFUSED)
def test_a_transition_from_the_wrong_state_is_refused_and_changes_nothing(people, state, name):
    incident = incident_in(people, state)
    before = snapshot(incident)
    _, call = transition_call(people, name)

    with pytest.raises(InvalidTransition) as refused:
        call(incident)

    assert refused.value.allowed == allowed_in(state)
    message = refused.value.message
    assert incident.reference in message
    assert f"is {incident.get_state_display().lower()};" in message
    for allowed in allowed_in(state):
        assert allowed in message.split("Allowed now:")[1]
    if not allowed_in(state):
        assert "nothing (final)" in message
    assert snapshot(incident) == before


def test_a_resolved_incident_refuses_hold_and_names_reopen_and_close(people):
    incident = incident_in(people, "resolved")
    with pytest.raises(InvalidTransition) as refused:
        services.incident_hold(
            incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_caller"
        )
    assert refused.value.message == (
        "INC-000001 is resolved; it cannot be put on hold from there. Allowed now: reopen, close."
    )


FIRST_CONTACT_FROM = ("reported", "escalated", "diagnosing")


def _first_contact(people, incident: Incident) -> Incident:
    return services.incident_resolve_first_contact(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="user-error",
        resolution_notes="Showed the caller how to reconnect the VPN client.",
    )


@pytest.mark.parametrize("state", FIRST_CONTACT_FROM)
def test_resolving_at_first_contact_writes_escalate_accept_resolve(people, state):
    incident = incident_in(people, state)
    before = IncidentEvent.objects.filter(incident=incident).count()

    resolved = _first_contact(people, incident)

    stored = Incident.objects.get(pk=incident.pk)
    assert resolved.state == stored.state == "resolved"
    assert stored.assignee == people.alice
    assert stored.resolution_code.slug == "user-error"
    assert stored.acknowledged_at is not None and stored.resolved_at is not None
    new = IncidentEvent.objects.filter(incident=incident).order_by("id")[before:]
    assert [(e.transition, e.from_state, e.to_state) for e in new] == [
        ("escalate", state, "escalated"),
        ("accept", "escalated", "diagnosing"),
        ("resolve", "diagnosing", "resolved"),
    ]
    assert {e.actor_user_id for e in new} == {people.alice.pk}


@pytest.mark.parametrize("state", [s for s in STATES if s not in FIRST_CONTACT_FROM])
def test_resolving_at_first_contact_from_a_later_state_is_refused(people, state):
    incident = incident_in(people, state)
    before = snapshot(incident)

    with pytest.raises(InvalidTransition) as refused:
        _first_contact(people, incident)

    assert "first contact" in refused.value.message
    assert refused.value.allowed == allowed_in(state)
    assert snapshot(incident) == before
