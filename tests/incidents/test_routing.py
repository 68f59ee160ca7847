"""Routing on report: a category's rule escalates to its group and may auto-assign the member
with the fewest open incidents (ties to the longest idle); with no rule it stays reported."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.models import Incident, IncidentEvent
from tenancy.models import Membership, Role
from tests.factories import CategoryFactory, add_to_group
from tests.incidents.build import member, report, resolve


def auto_assign(people) -> None:
    people.group.auto_assign = True
    people.group.save(update_fields=["auto_assign"])


def test_a_category_with_a_group_escalates_on_report(people):
    incident = report(people)
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.group, stored.assignee) == ("escalated", people.group, None)
    assert stored.escalated_at is not None
    events = IncidentEvent.objects.filter(incident=incident).order_by("id")
    assert [(e.kind, e.transition, e.actor_kind) for e in events] == [
        ("reported", "", "member"),
        ("transition", "escalate", "system"),
    ]
    routed = events.last()
    assert (routed.actor_name, routed.reason) == ("Routing", "Routing rule of category Network")
    assert routed.data == {"group": "Service Desk", "assignee": None, "from_group": None}


@pytest.mark.parametrize("category", ["none", "without a group", "routed to a retired group"])
def test_without_a_rule_the_incident_stays_reported(people, category):
    fields = {}
    if category == "without a group":
        fields["category"] = CategoryFactory(tenant=people.acme, name="Facilities")
    if category == "routed to a retired group":
        people.group.is_active = False
        people.group.save(update_fields=["is_active"])
        fields["category"] = people.network
    incident = report(people, routed=False, **fields)
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.group, stored.assignee) == ("reported", None, None)
    assert list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True)) == [
        "reported"
    ]


def test_auto_assign_picks_the_member_with_the_fewest_open_incidents(people):
    busy = report(people)
    services.incident_accept(incident=busy, actor=people.actor(people.alice))
    auto_assign(people)

    incident = report(people)

    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.group, stored.assignee) == ("escalated", people.group, people.bob)
    assert stored.assigned_at is not None
    routed = IncidentEvent.objects.filter(incident=incident).last()
    assert routed.data["assignee"] == "bob@acme.test"
    # Now both hold one open incident and bob was assigned last: alice is next.
    assert report(people).assignee == people.alice


def _hold_then_resolve(people, agent) -> None:
    incident = report(people)
    incident = services.incident_accept(incident=incident, actor=people.actor(agent))
    resolve(incident, people.actor(agent))


@pytest.mark.parametrize("last_busy", ["alice", "bob"])
def test_a_tie_goes_to_the_agent_idle_longest(people, last_busy):
    """Both hold nothing open; the one who was handed an incident longer ago gets the next.

    The incidents are reported first and accepted later, so the order of assignment differs
    from the order of escalation: idleness must be measured from the assignment.
    """
    first, second = report(people), report(people)
    order = ["alice", "bob"] if last_busy == "bob" else ["bob", "alice"]
    for incident, name in zip((second, first), order, strict=True):
        agent = getattr(people, name)
        accepted = services.incident_accept(incident=incident, actor=people.actor(agent))
        resolve(accepted, people.actor(agent))
    auto_assign(people)

    incident = report(people)

    idle = {"alice": people.bob, "bob": people.alice}[last_busy]
    assert Incident.objects.get(pk=incident.pk).assignee == idle


def test_a_member_who_never_had_an_incident_is_the_most_idle(people):
    _hold_then_resolve(people, people.alice)
    _hold_then_resolve(people, people.bob)
    gina = member(people, "gina@acme.test", Role.AGENT, "Gina Agent")
    add_to_group(people.group, gina)
    auto_assign(people)
    assert report(people).assignee == gina


def test_auto_assign_skips_deactivated_members(people):
    busy = report(people)
    services.incident_accept(incident=busy, actor=people.actor(people.alice))
    Membership.objects.filter(tenant=people.acme, user=people.bob).update(is_active=False)
    auto_assign(people)
    assert report(people).assignee == people.alice


def test_auto_assign_in_a_group_without_members_escalates_to_the_group(people):
    Membership.objects.filter(tenant=people.acme, role=Role.AGENT).update(is_active=False)
    auto_assign(people)
    incident = report(people)
    assert (incident.state, incident.group, incident.assignee) == (
        "escalated",
        people.group,
        None,
    )
