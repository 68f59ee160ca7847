"""Affected users: joining an incident, and the people of a duplicate moving to the original."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.models import Incident, IncidentEvent, Participant
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.build import incident_in, report, requester, snapshot


def followers(incident: Incident) -> set[str]:
    users = Participant.objects.filter(incident=incident).values_list("user__email", flat=True)
    return set(users)


def test_a_requester_joins_an_open_incident_and_the_count_rises(people):
    ron = requester(people)
    incident = incident_in(people, "escalated")
    seen = incident.version
    assert services.incident_join(incident=incident, actor=people.actor(ron), user=ron) is True
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.affected_count, stored.version) == (2, seen + 1)
    assert (incident.affected_count, incident.version) == (2, seen + 1)  # the caller's copy too
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert (event.kind, event.reason, event.incident_version) == (
        "joined",
        "Ron is affected too",
        stored.version,
    )


def test_joining_twice_or_as_the_reporter_changes_nothing(people):
    ron = requester(people)
    incident = incident_in(people, "escalated")
    services.incident_join(incident=incident, actor=people.actor(ron), user=ron)
    before = snapshot(incident)
    assert services.incident_join(incident=incident, actor=people.actor(ron), user=ron) is False
    rita = people.actor(people.rita)
    assert services.incident_join(incident=incident, actor=rita, user=people.rita) is False
    assert snapshot(incident) == before


def test_a_requester_cannot_add_someone_else(people):
    ron = requester(people)
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="You can only add yourself"):
        services.incident_join(incident=incident, actor=people.actor(ron), user=people.max)
    assert snapshot(incident) == before


def test_an_agent_cannot_add_a_user_of_another_tenant(people):
    incident = incident_in(people, "escalated")
    with pytest.raises(InvalidInput, match="charlie@globex.test is not a member of this desk"):
        services.incident_join(
            incident=incident, actor=people.actor(people.alice), user=people.charlie
        )
    assert followers(incident) == set()


def test_nobody_joins_a_resolved_incident(people):
    ron = requester(people)
    incident = incident_in(people, "resolved")
    with pytest.raises(InvalidInput, match="no longer open; report a new incident"):
        services.incident_join(incident=incident, actor=people.actor(ron), user=ron)


def test_cancelling_a_duplicate_moves_its_people_to_the_original(people):
    ron, paula = requester(people), requester(people, "paula@acme.test")
    original = report(people)  # rita's
    duplicate = report(people, actor=people.actor(ron), title="No VPN")
    services.incident_join(incident=duplicate, actor=people.actor(paula), user=paula)
    services.incident_join(incident=original, actor=people.actor(paula), user=paula)
    original_events = IncidentEvent.objects.filter(incident=original).count()

    cancelled = services.incident_cancel(
        incident=duplicate, actor=people.actor(people.alice), reason="", duplicate_of=original
    )

    assert (cancelled.state, cancelled.duplicate_of_id) == ("cancelled", original.pk)
    assert cancelled.cancel_reason == "Duplicate of INC-000001"
    cancel_event = IncidentEvent.objects.filter(incident=duplicate).last()
    assert (cancel_event.transition, cancel_event.reason, cancel_event.data) == (
        "cancel",
        "Duplicate of INC-000001",
        {"duplicate_of": "INC-000001"},
    )
    stored = Incident.objects.get(pk=original.pk)
    assert followers(stored) == {"ron@acme.test", "paula@acme.test"}
    assert stored.affected_count == 3  # rita, paula, and now ron
    joined = IncidentEvent.objects.filter(incident=original).order_by("id")[original_events:]
    assert [(e.kind, e.data, e.actor_user) for e in joined] == [
        ("joined", {"user": "ron@acme.test", "via": "INC-000002"}, people.alice),
    ]


def test_the_originals_reporter_does_not_join_their_own_incident(people):
    original = report(people)
    duplicate = report(people, title="VPN again")  # rita reports twice
    services.incident_cancel(
        incident=duplicate,
        actor=people.actor(people.alice),
        reason="Same outage",
        duplicate_of=original,
    )
    stored = Incident.objects.get(pk=original.pk)
    assert (followers(stored), stored.affected_count, stored.version) == (
        set(),
        1,
        original.version,
    )
    assert Incident.objects.get(pk=duplicate.pk).cancel_reason == "Same outage"


def test_a_duplicate_can_point_at_a_resolved_original(people):
    ron = requester(people)
    original = incident_in(people, "resolved")
    duplicate = report(people, actor=people.actor(ron), title="No VPN")
    services.incident_cancel(
        incident=duplicate, actor=people.actor(people.alice), reason="", duplicate_of=original
    )
    assert followers(original) == {"ron@acme.test"}


@pytest.mark.parametrize("crowd", [2, 12])
def test_moving_a_duplicates_people_costs_the_same_for_two_or_twelve(
    people, crowd, django_assert_max_num_queries
):
    """One lock and one write of the original, whatever the crowd: not a join each."""
    original = report(people)
    duplicate = report(people, title="No VPN")
    for n in range(crowd):
        joiner = requester(people, f"user{n}@acme.test")
        services.incident_join(incident=duplicate, actor=people.actor(joiner), user=joiner)

    with django_assert_max_num_queries(40):
        services.incident_cancel(
            incident=duplicate, actor=people.actor(people.alice), reason="", duplicate_of=original
        )

    stored = Incident.objects.get(pk=original.pk)
    assert stored.affected_count == 1 + crowd
    assert len(followers(stored)) == crowd
    joined = IncidentEvent.objects.filter(incident=original, kind="joined")
    assert sorted(e.data["user"] for e in joined) == sorted(
        f"user{n}@acme.test" for n in range(crowd)
    )
    assert len({e.incident_version for e in joined}) == 1  # one write of the original
