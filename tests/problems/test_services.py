"""The problem services: numbering, the lifecycle and its refusals, links on both timelines,
resolving the incidents with the problem."""

from __future__ import annotations

import pytest

from incidents.errors import InvalidTransition
from incidents.models import EventKind, IncidentEvent, IncidentState, ResolutionCode
from problems import services
from problems.models import Problem, ProblemEvent, ProblemLink, ProblemState
from problems.selectors import known_error_offers, problem_incidents
from tenancy.errors import InvalidInput, NotAllowed
from tests.problems.support import incident, known_error, problem

pytestmark = pytest.mark.django_db


def test_problems_are_numbered_per_tenant_with_the_priority_of_the_matrix(people):
    first = problem(people)
    second = services.problem_log(
        actor=people.actor(people.bob), title="Printers lose jobs", impact="high", urgency="high"
    )
    other = services.problem_log(actor=people.actor(people.charlie, people.globex), title="X")
    assert (first.reference, second.reference) == ("PRB-000001", "PRB-000002")
    assert other.reference == "PRB-000001"
    assert second.priority.slug == "high"
    assert first.state == ProblemState.LOGGED
    assert list(first.events.values_list("kind", flat=True)) == ["logged"]


def test_a_requester_cannot_log_a_problem(people):
    with pytest.raises(NotAllowed):
        services.problem_log(actor=people.actor(people.rita), title="Mine")


def test_a_problem_needs_a_title_and_an_agent_as_owner(people):
    with pytest.raises(InvalidInput, match="title"):
        services.problem_log(actor=people.actor(people.alice), title="  ")
    with pytest.raises(InvalidInput, match="not an active agent"):
        services.problem_log(actor=people.actor(people.alice), title="T", owner=people.rita)


def test_the_lifecycle_writes_one_event_per_transition(people):
    p = problem(people)
    actor = people.actor(people.alice)
    p = services.problem_investigate(problem=p, actor=actor)
    p = known_error(people, p)
    outcome = services.problem_resolve(
        problem=p, actor=actor, fix="Firmware 4.3 installed.", change_reference="CHG-17"
    )
    p = services.problem_close(problem=outcome.problem, actor=actor)
    assert p.state == ProblemState.CLOSED
    assert p.workaround.startswith("Reconnect")
    assert (p.fix, p.change_reference) == ("Firmware 4.3 installed.", "CHG-17")
    moves = list(
        ProblemEvent.objects.filter(problem=p, kind="transition").values_list(
            "from_state", "to_state"
        )
    )
    assert moves == [
        ("logged", "investigating"),
        ("investigating", "known_error"),
        ("known_error", "resolved"),
        ("resolved", "closed"),
    ]


def test_a_known_error_needs_both_root_cause_and_workaround(people):
    p = problem(people)
    actor = people.actor(people.alice)
    with pytest.raises(InvalidInput, match="workaround") as err:
        services.problem_record_known_error(problem=p, actor=actor, root_cause="X", workaround="")
    assert err.value.field == "workaround"
    with pytest.raises(InvalidInput, match="root cause"):
        services.problem_record_known_error(problem=p, actor=actor, root_cause="", workaround="Y")
    assert Problem.objects.get(pk=p.pk).state == ProblemState.LOGGED


def test_resolving_needs_the_fix_and_a_change_and_a_right_state(people):
    p = problem(people)
    actor = people.actor(people.alice)
    with pytest.raises(InvalidTransition, match="cannot be resolved"):
        services.problem_resolve(problem=p, actor=actor, fix="F", change_reference="CHG-1")
    p = services.problem_investigate(problem=p, actor=actor)
    with pytest.raises(InvalidInput, match="change"):
        services.problem_resolve(problem=p, actor=actor, fix="F", change_reference=" ")


def test_cancelling_needs_a_reason(people):
    p = problem(people)
    actor = people.actor(people.alice)
    with pytest.raises(InvalidInput, match="why"):
        services.problem_cancel(problem=p, actor=actor, reason="")
    p = services.problem_cancel(problem=p, actor=actor, reason="Not a problem after all")
    assert p.state == ProblemState.CANCELLED
    assert p.cancel_reason == "Not a problem after all"


def test_linking_writes_on_both_timelines_and_an_incident_has_one_problem(people):
    first = incident(people)
    p = problem(people)
    services.problem_link_incident(problem=p, incident=first, actor=people.actor(people.bob))
    event = IncidentEvent.objects.filter(incident=first, kind=EventKind.LINKED).get()
    assert "Linked to problem PRB-000001" in event.reason
    assert not event.public
    assert ProblemEvent.objects.filter(problem=p, kind="linked").count() == 1
    assert Problem.objects.get(pk=p.pk).category == people.network
    other = problem(people, title="Another")
    with pytest.raises(InvalidInput, match="already linked to PRB-000001"):
        services.problem_link_incident(
            problem=other, incident=first, actor=people.actor(people.bob)
        )
    services.problem_unlink_incident(incident=first, actor=people.actor(people.bob))
    assert not ProblemLink.objects.filter(incident=first).exists()
    services.problem_link_incident(problem=other, incident=first, actor=people.actor(people.bob))


def test_the_incidents_summary_counts_open_ones_people_and_occurrences(people):
    a = incident(people, "VPN drops")
    b = incident(people, "VPN drops again", by=people.max)
    p = problem(people, a, b)
    summary = problem_incidents(p)
    assert [i.pk for i in summary.incidents] == [a.pk, b.pk]
    assert summary.open_count == 2
    assert summary.affected == 2  # rita and max
    assert summary.first_at == a.reported_at
    assert summary.last_at == b.reported_at


def test_resolving_with_incidents_resolves_the_open_ones_as_solved_permanently(people):
    a, b = incident(people, "VPN drops"), incident(people, "VPN drops at noon")
    ResolutionCode.objects.filter(tenant=people.acme, slug="solved-permanently").delete()
    p = known_error(people, problem(people, a, b))
    outcome = services.problem_resolve(
        problem=p,
        actor=people.actor(people.alice),
        fix="Firmware 4.3.",
        change_reference="CHG-17",
        resolve_incidents=True,
    )
    assert sorted(outcome.resolved) == sorted([a.reference, b.reference])
    for i in (a, b):
        i.refresh_from_db()
        assert i.state == IncidentState.RESOLVED
        assert i.resolution_code.label == "Solved (permanently)"
        assert "CHG-17" in i.resolution_notes


def test_resolving_without_incidents_leaves_them_to_their_agents(people):
    a = incident(people)
    p = known_error(people, problem(people, a))
    services.problem_resolve(
        problem=p, actor=people.actor(people.alice), fix="F", change_reference="CHG-1"
    )
    a.refresh_from_db()
    assert a.state == IncidentState.ESCALATED


def test_an_incident_linked_to_a_resolved_problem_says_so(people):
    p = known_error(people, problem(people))
    services.problem_resolve(
        problem=p, actor=people.actor(people.alice), fix="Firmware 4.3.", change_reference="CHG-9"
    )
    late = incident(people)
    services.problem_link_incident(problem=p, incident=late, actor=people.actor(people.bob))
    event = IncidentEvent.objects.filter(incident=late, kind=EventKind.LINKED).get()
    assert "already resolved by change CHG-9" in event.reason


def test_a_known_error_is_offered_to_a_similar_incident_in_its_category(people):
    p = known_error(people, problem(people, incident(people, "VPN drops every hour")))
    similar = incident(people, "VPN drops every few minutes")
    unlike = incident(people, "Printer is out of toner")
    elsewhere = incident(people, "VPN drops every hour", category=None)
    actor = people.actor(people.bob)
    assert known_error_offers(actor=actor, incident=similar) == [p]
    assert known_error_offers(actor=actor, incident=unlike) == []
    assert known_error_offers(actor=actor, incident=elsewhere) == []
