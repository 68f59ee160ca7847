"""Who may run each transition: refusals are NotAllowed with a clear message and change nothing.

Each refusal is tried in a state where the transition itself is allowed, so only the role (or
the actor's relation to the incident) can be the reason.
"""

from __future__ import annotations

import pytest

from incidents import services
from incidents.models import Incident, IncidentEvent
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import Role
from tests.incidents.build import incident_in, member, report, requester, resolve, snapshot

STATE_FOR = {
    "escalate": "reported",
    "accept": "escalated",
    "hold": "diagnosing",
    "resume": "on_hold",
    "resolve": "diagnosing",
    "reopen": "resolved",
    "close": "resolved",
    "cancel": "diagnosing",
}


def run(name: str, incident: Incident, actor: Actor, people) -> Incident:
    calls = {
        "escalate": lambda: services.incident_escalate(
            incident=incident, actor=actor, group=people.group
        ),
        "accept": lambda: services.incident_accept(
            incident=incident, actor=actor, assignee=people.alice if actor.user is None else None
        ),
        "hold": lambda: services.incident_hold(
            incident=incident, actor=actor, hold_reason="awaiting_vendor"
        ),
        "resume": lambda: services.incident_resume(incident=incident, actor=actor),
        "resolve": lambda: resolve(incident, actor),
        "reopen": lambda: services.incident_reopen(
            incident=incident, actor=actor, reason="Still broken"
        ),
        "close": lambda: services.incident_close(incident=incident, actor=actor, rating=3),
        "cancel": lambda: services.incident_cancel(
            incident=incident, actor=actor, reason="Not ours"
        ),
    }
    return calls[name]()


def assert_refused(people, name: str, actor: Actor, *, says: str) -> None:
    incident = incident_in(people, STATE_FOR[name])
    before = snapshot(incident)
    with pytest.raises(NotAllowed) as refused:
        run(name, incident, actor, people)
    assert refused.value.message.startswith(f"You cannot {name} {incident.reference}: ")
    assert says in refused.value.message
    assert snapshot(incident) == before


@pytest.mark.parametrize("name", ["escalate", "accept", "hold", "resume", "resolve", "cancel"])
def test_the_reporting_requester_cannot_run_desk_transitions(people, name):
    assert_refused(people, name, people.actor(people.rita), says="only the desk's agents")


@pytest.mark.parametrize("name", ["reopen", "close"])
def test_another_requester_cannot_reopen_or_close_ritas_incident(people, name):
    ron = requester(people)
    assert_refused(people, name, people.actor(ron), says="only its reporter or the desk's agents")


@pytest.mark.parametrize("name", ["reopen", "close"])
def test_the_reporter_may_reopen_or_close_their_incident(people, name):
    incident = incident_in(people, "resolved")
    done = run(name, incident, people.actor(people.rita), people)
    assert done.state == {"reopen": "diagnosing", "close": "closed"}[name]


def test_an_agent_outside_the_group_cannot_accept(people):
    gina = member(people, "gina@acme.test", Role.AGENT, "Gina Agent")
    assert_refused(
        people,
        "accept",
        people.actor(gina),
        says="only an agent of the incident's group or a manager can accept it",
    )


def test_a_manager_outside_the_group_may_accept(people):
    incident = incident_in(people, "escalated")
    accepted = services.incident_accept(incident=incident, actor=people.actor(people.max))
    assert (accepted.state, accepted.assignee) == ("diagnosing", people.max)


def test_an_agent_cannot_hand_the_incident_to_someone_outside_the_group(people):
    gina = member(people, "gina@acme.test", Role.AGENT)
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="gina@acme.test is not an agent of the incident's group"):
        services.incident_accept(incident=incident, actor=people.actor(people.alice), assignee=gina)
    assert snapshot(incident) == before


def test_an_agent_may_accept_for_a_teammate(people):
    incident = incident_in(people, "escalated")
    accepted = services.incident_accept(
        incident=incident, actor=people.actor(people.alice), assignee=people.bob
    )
    assert accepted.assignee == people.bob


def test_an_incident_escalated_to_one_agent_is_accepted_by_that_agent_only(people):
    incident = incident_in(people, "reported")
    incident = services.incident_escalate(
        incident=incident, actor=people.actor(people.max), assignee=people.bob
    )
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="only an agent of the incident's group"):
        services.incident_accept(incident=incident, actor=people.actor(people.alice))
    assert snapshot(incident) == before
    accepted = services.incident_accept(incident=incident, actor=people.actor(people.bob))
    assert accepted.assignee == people.bob


def test_an_agent_closes_only_on_the_reporters_word(people):
    assert_refused(
        people,
        "close",
        people.actor(people.alice),
        says="an agent closes an incident only on the reporter's word",
    )
    incident = incident_in(people, "resolved")
    closed = services.incident_close(
        incident=incident, actor=people.actor(people.alice), on_reporters_word=True
    )
    assert closed.state == "closed"
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert event.data["on_reporters_word"] is True


def test_an_agent_who_reported_the_incident_closes_it_on_their_own_word(people):
    incident = report(people, actor=people.actor(people.bob))
    incident = services.incident_accept(incident=incident, actor=people.actor(people.alice))
    incident = resolve(incident, people.actor(people.alice))
    closed = services.incident_close(incident=incident, actor=people.actor(people.bob), rating=5)
    assert (closed.state, closed.satisfaction_rating) == ("closed", 5)


def test_a_manager_also_needs_the_reporters_word_to_close(people):
    assert_refused(people, "close", people.actor(people.max), says="only on the reporter's word")


@pytest.mark.parametrize("name", ["accept", "cancel", "reopen"])
def test_the_system_cannot_accept_cancel_or_reopen(people, name):
    system = Actor.system(people.acme, "Scheduler")
    assert_refused(people, name, system, says=f"the system does not {name} incidents")


@pytest.mark.parametrize("name", ["escalate", "hold", "resume", "resolve", "close"])
def test_the_system_runs_its_own_transitions(people, name):
    incident = incident_in(people, STATE_FOR[name])
    done = run(name, incident, Actor.system(people.acme, "Parent incident"), people)
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert (event.transition, event.actor_kind, event.actor_name) == (
        name,
        "system",
        "Parent incident",
    )
    assert done.state == event.to_state


class ApiKey:
    name = "Monitoring bridge"


def integration(people, role: str = Role.AGENT) -> Actor:
    return Actor.integration(people.acme, ApiKey(), role)


def test_an_integration_accepts_only_for_an_agent_of_the_group(people):
    gina = member(people, "gina@acme.test", Role.AGENT)
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="Name the agent who takes the incident"):
        services.incident_accept(incident=incident, actor=integration(people))
    with pytest.raises(NotAllowed, match="gina@acme.test is not an agent of the incident's group"):
        services.incident_accept(incident=incident, actor=integration(people), assignee=gina)
    assert snapshot(incident) == before
    accepted = services.incident_accept(
        incident=incident, actor=integration(people), assignee=people.alice
    )
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert accepted.assignee == people.alice
    assert (event.actor_kind, event.actor_name, event.actor_user) == (
        "integration",
        "Monitoring bridge",
        None,
    )


def test_an_integration_closes_only_on_the_reporters_word(people):
    assert_refused(people, "close", integration(people), says="only on the reporter's word")


def test_a_requester_cannot_resolve_at_first_contact(people):
    incident = incident_in(people, "reported")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="Only an agent can resolve an incident at first contact"):
        services.incident_resolve_first_contact(
            incident=incident,
            actor=people.actor(people.rita),
            resolution_code="user-error",
            resolution_notes="Restarted it myself",
        )
    assert snapshot(incident) == before


def test_charlie_of_another_tenant_cannot_reach_the_incident(people):
    """The service looks the incident up inside the actor's tenant: a miss, as for a 404."""
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    charlie = people.actor(people.charlie, people.globex)
    with pytest.raises(Incident.DoesNotExist):
        services.incident_hold(incident=incident, actor=charlie, hold_reason="awaiting_vendor")
    assert snapshot(incident) == before
