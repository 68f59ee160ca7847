"""Real concurrency on PostgreSQL: threads, each with its own connection, released together by
a barrier. Whatever the interleaving, one writer wins where the changes clash (the other gets
a clear conflict), both apply where they do not, and the incident and its events agree."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import transaction

from incidents import services
from incidents.errors import InvalidTransition, StaleIncident
from incidents.models import Incident, IncidentEvent
from tenancy.errors import InvalidInput, Refusal
from tenancy.models import TenantCounter
from tests.concurrency import run_together
from tests.incidents.build import (
    ITIL_MATRIX,
    ITIL_SCALE,
    incident_in,
    report,
    requester,
    resolve,
)

pytestmark = pytest.mark.postgres

ROUNDS = 3


def one_winner(outcomes: list[tuple[str, Any]], *conflicts: type[Exception]) -> int:
    """The index of the only success; every other call failed with one of `conflicts`."""
    winners = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
    assert len(winners) == 1, outcomes
    for i, (kind, value) in enumerate(outcomes):
        if i != winners[0]:
            assert kind == "error" and isinstance(value, conflicts), outcomes
            assert isinstance(value, Refusal) and value.message
    return winners[0]


def events_since(incident: Incident, count: int) -> list[IncidentEvent]:
    return list(IncidentEvent.objects.filter(incident=incident).order_by("id"))[count:]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_agent_resolves_while_another_holds_and_exactly_one_wins(
    transactional_db, people, round_
):
    incident = incident_in(people, "diagnosing")
    seen, before = incident.version, IncidentEvent.objects.filter(incident=incident).count()
    alice, bob = people.actor(people.alice), people.actor(people.bob)

    outcomes = run_together(
        lambda: services.incident_resolve(
            incident=incident,
            actor=alice,
            resolution_code="solved-permanently",
            resolution_notes="Rebooted the concentrator.",
            expected_version=seen,
        ),
        lambda: services.incident_hold(
            incident=incident, actor=bob, hold_reason="awaiting_vendor", expected_version=seen
        ),
    )

    winner = one_winner(outcomes, StaleIncident)
    loser_error = outcomes[1 - winner][1]
    target, winner_user = [("resolved", people.alice), ("on_hold", people.bob)][winner]
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.version) == (target, seen + 1)
    assert loser_error.current_version == seen + 1
    assert winner_user.full_name in loser_error.message
    new = events_since(incident, before)
    assert [(e.transition, e.from_state, e.to_state, e.actor_user) for e in new] == [
        ({"resolved": "resolve", "on_hold": "hold"}[target], "diagnosing", target, winner_user)
    ]
    if target == "resolved":
        assert (stored.hold_reason, stored.resolution_code.slug) == ("", "solved-permanently")
    else:
        assert (stored.hold_reason, stored.resolution_code) == ("awaiting_vendor", None)


@pytest.mark.parametrize("with_version", [False, True], ids=["no-version", "with-version"])
def test_two_agents_accepting_at_once_leave_one_assignee(transactional_db, people, with_version):
    actors = (people.actor(people.alice), people.actor(people.bob))
    for _ in range(ROUNDS):
        incident = report(people)  # escalated to the group
        seen, before = incident.version, IncidentEvent.objects.filter(incident=incident).count()
        version = {"expected_version": seen} if with_version else {}

        outcomes = run_together(
            *(
                lambda i=incident, a=actor, v=version: services.incident_accept(
                    incident=i, actor=a, **v
                )
                for actor in actors
            )
        )

        # Without a version the second sees the incident already taken; with one, stale.
        winner = one_winner(outcomes, StaleIncident if with_version else InvalidTransition)
        winner_user = (people.alice, people.bob)[winner]
        stored = Incident.objects.get(pk=incident.pk)
        assert (stored.state, stored.assignee, stored.version) == (
            "diagnosing",
            winner_user,
            seen + 1,
        )
        assert stored.reassignment_count == 0
        new = events_since(incident, before)
        assert [(e.transition, e.actor_user) for e in new] == [("accept", winner_user)]


def test_a_stale_edit_of_the_same_field_is_refused_naming_who_changed_what(
    transactional_db, people
):
    incident = incident_in(people, "diagnosing")
    seen, before = incident.version, IncidentEvent.objects.filter(incident=incident).count()
    alice, bob = people.actor(people.alice), people.actor(people.bob)

    outcomes = run_together(
        lambda: services.incident_update(
            incident=incident, actor=alice, title="VPN down in Lyon", expected_version=seen
        ),
        lambda: services.incident_update(
            incident=incident, actor=bob, title="VPN down in Paris", expected_version=seen
        ),
    )

    winner = one_winner(outcomes, StaleIncident)
    said = ["Alice Agent changed the title", "Bob Agent changed the title"][winner]
    assert said in outcomes[1 - winner][1].message
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.title == ["VPN down in Lyon", "VPN down in Paris"][winner]
    assert stored.version == seen + 1
    assert len(events_since(incident, before)) == 1


def test_stale_edits_of_different_fields_at_once_both_apply(transactional_db, people):
    incident = incident_in(people, "diagnosing")
    seen, before = incident.version, IncidentEvent.objects.filter(incident=incident).count()
    alice, bob = people.actor(people.alice), people.actor(people.bob)

    outcomes = run_together(
        lambda: services.incident_update(
            incident=incident, actor=alice, title="VPN down in Lyon", expected_version=seen
        ),
        lambda: services.incident_update(
            incident=incident,
            actor=bob,
            description="Only the Lyon office",
            expected_version=seen,
        ),
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.title, stored.description) == ("VPN down in Lyon", "Only the Lyon office")
    assert stored.version == seen + 2
    assert len(events_since(incident, before)) == 2


def test_an_edit_after_someone_elses_change_is_refused_and_names_them(transactional_db, people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    [(kind, _)] = run_together(
        lambda: services.incident_update(
            incident=incident, actor=people.actor(people.bob), urgency="high", reason="CEO"
        )
    )
    assert kind == "ok"
    with pytest.raises(StaleIncident) as refused:
        services.incident_update(
            incident=incident,
            actor=people.actor(people.alice),
            urgency="low",
            reason="One user",
            expected_version=seen,
        )
    assert "Bob Agent changed the priority to High" in refused.value.message
    assert Incident.objects.get(pk=incident.pk).urgency == "high"


def test_fifty_concurrent_reports_get_fifty_consecutive_numbers(transactional_db, people):
    rita = people.actor(people.rita)
    calls = [
        lambda n=n: services.incident_report(
            actor=rita, title=f"Outage report {n}", category=people.network
        )
        for n in range(50)
    ]

    outcomes = run_together(*calls, timeout=120)

    assert [kind for kind, _ in outcomes] == ["ok"] * 50, outcomes
    numbers = sorted(incident.number for _, incident in outcomes)
    assert numbers == list(range(1, 51))
    stored = Incident.objects.for_tenant(people.acme)
    assert sorted(stored.values_list("number", flat=True)) == list(range(1, 51))
    assert stored.filter(state="escalated").count() == 50  # each one routed as well
    counter = TenantCounter.objects.get(tenant=people.acme, name="incident")
    assert counter.value == 50
    assert report(people).reference == "INC-000051"


def test_a_report_rolled_back_among_concurrent_ones_leaves_no_gap(transactional_db, people):
    rita = people.actor(people.rita)

    def report_then_fail() -> None:
        with transaction.atomic():
            services.incident_report(actor=rita, title="Will be rolled back")
            raise RuntimeError("the request failed after reporting")

    calls = [report_then_fail] + [
        lambda n=n: services.incident_report(actor=rita, title=f"Kept {n}") for n in range(9)
    ]

    outcomes = run_together(*calls)

    assert outcomes[0][0] == "error" and isinstance(outcomes[0][1], RuntimeError)
    numbers = sorted(incident.number for kind, incident in outcomes[1:])
    assert numbers == list(range(1, 10))
    assert not Incident.objects.filter(title="Will be rolled back").exists()
    assert report(people).number == 10


def test_two_incidents_marked_duplicates_of_each_other_at_once_do_not_deadlock(
    transactional_db, people
):
    ron = requester(people)
    first = report(people)
    second = report(people, actor=people.actor(ron), title="No VPN either")
    alice, bob = people.actor(people.alice), people.actor(people.bob)

    outcomes = run_together(
        lambda: services.incident_cancel(
            incident=first, actor=alice, reason="", duplicate_of=second
        ),
        lambda: services.incident_cancel(incident=second, actor=bob, reason="", duplicate_of=first),
    )

    winner = one_winner(outcomes, InvalidInput)
    assert "choose an open incident as the original" in outcomes[1 - winner][1].message
    cancelled, original = [(first, second), (second, first)][winner]
    states = dict(Incident.objects.values_list("pk", "state"))
    assert (states[cancelled.pk], states[original.pk]) == ("cancelled", "escalated")
    assert Incident.objects.get(pk=original.pk).affected_count == 2


def test_an_agent_resolving_while_the_caller_replies_keeps_one_story(transactional_db, people):
    """The caller's reply resumes a hold; resolving at the same moment wins or follows it."""
    incident = services.incident_hold(
        incident=incident_in(people, "diagnosing"),
        actor=people.actor(people.alice),
        hold_reason="awaiting_caller",
    )
    outcomes = run_together(
        lambda: services.comment_add(
            incident=incident, actor=people.actor(people.rita), body="Error 809 again"
        ),
        lambda: resolve(incident, people.actor(people.alice)),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.state == "resolved"
    transitions = IncidentEvent.objects.filter(incident=incident, kind="transition")
    chain = list(transitions.order_by("id").values_list("from_state", "to_state"))
    for (_, to), (frm, _) in zip(chain, chain[1:], strict=False):
        assert to == frm, chain  # every transition starts where the previous one ended
    assert chain[-1][1] == "resolved"


def test_a_report_in_flight_during_a_matrix_change_ends_up_on_the_new_matrix(
    transactional_db, people
):
    """A report still uncommitted while the admin switches to ITIL must not keep the old level."""
    reported, go = threading.Event(), threading.Event()

    def report_and_linger() -> Incident:
        with transaction.atomic():
            incident = report(people, impact="high", urgency="high")  # "high", rank 1, today
            reported.set()
            go.wait(30)  # still uncommitted while the matrix changes
        return incident

    def switch() -> int:
        assert reported.wait(30)
        return services.matrix_set(
            actor=people.actor(people.ada), scale=ITIL_SCALE, matrix=ITIL_MATRIX
        )

    def release() -> None:
        assert reported.wait(30)
        threading.Event().wait(1)  # give the switch time to finish, if it did not wait
        go.set()

    outcomes = run_together(report_and_linger, switch, release)

    assert [kind for kind, _ in outcomes] == ["ok"] * 3, outcomes
    stored = Incident.objects.select_related("priority").get(pk=outcomes[0][1].pk)
    assert (stored.priority.slug, stored.priority_rank) == ("critical", 1)
