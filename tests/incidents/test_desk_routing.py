"""Routing on report: a category's rule escalates to its group, which may auto-assign to the
member with the fewest open incidents (ties: the one idle longest)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from incidents import services
from incidents.models import Incident
from incidents.services.routing import auto_assignee
from tenancy.models import Membership, Role
from tests.factories import CategoryFactory, GroupFactory, UserFactory, add_to_group
from tests.incidents.desk_support import report


def _auto_group(people, *members):
    group = GroupFactory(tenant=people.acme, name="Field Service", auto_assign=True)
    add_to_group(group, *members)
    category = CategoryFactory(tenant=people.acme, name="Hardware", group=group)
    return group, category


def test_a_category_rule_escalates_to_its_group_unassigned(people):
    incident = report(people, "VPN drops", category=people.network)
    assert (incident.state, incident.group, incident.assignee) == ("escalated", people.group, None)
    assert incident.events.filter(transition="escalate", actor_name="Routing").exists()


def test_without_a_rule_the_incident_waits_in_unassigned(people):
    no_rule = CategoryFactory(tenant=people.acme, name="Other")
    incident = report(people, "Odd thing", category=no_rule)
    assert (incident.state, incident.group) == ("reported", None)


def test_an_inactive_group_does_not_take_new_incidents(people):
    people.group.is_active = False
    people.group.save()
    assert report(people, "VPN", category=people.network).state == "reported"


def test_auto_assignment_picks_the_member_with_fewest_open_incidents(people):
    _, category = _auto_group(people, people.alice, people.bob)
    alice = people.actor(people.alice)
    for n in range(2):
        services.incident_accept(
            incident=report(people, f"Alice {n}", category=people.network), actor=alice
        )
    incident = report(people, "Screen flickers", category=category)
    assert incident.assignee == people.bob
    # Bob now has one, Alice two: the next goes to Bob again.
    assert report(people, "Dock dead", category=category).assignee == people.bob


def test_closed_work_does_not_count_as_open(people):
    _, category = _auto_group(people, people.alice, people.bob)
    alice = people.actor(people.alice)
    for n in range(3):
        done = services.incident_accept(
            incident=report(people, f"Done {n}", category=people.network), actor=alice
        )
        services.incident_resolve(
            incident=done, actor=alice, resolution_code="known-error", resolution_notes="ok"
        )
    services.incident_accept(
        incident=report(people, "Bob busy", category=people.network),
        actor=people.actor(people.bob),
    )
    assert report(people, "Mouse", category=category).assignee == people.alice


def test_ties_go_to_the_member_idle_longest(people):
    """Both have nothing open; Bob took work an hour ago, Max never did: Max is idle longest."""
    group, category = _auto_group(people, people.bob, people.max)
    earlier = report(people, "Earlier work", category=category)
    assert earlier.assignee in (people.bob, people.max)
    first = earlier.assignee
    services.incident_resolve(
        incident=earlier,
        actor=people.actor(people.max),
        resolution_code="known-error",
        resolution_notes="ok",
    )
    Incident.objects.filter(pk=earlier.pk).update(escalated_at=timezone.now() - timedelta(hours=1))
    other = people.max if first == people.bob else people.bob
    assert auto_assignee(group) == other
    assert report(people, "Next one", category=category).assignee == other


def test_requesters_and_deactivated_agents_are_never_auto_assigned(people):
    gone = UserFactory(email="gone@acme.test")
    Membership.objects.create(tenant=people.acme, user=gone, role=Role.AGENT, is_active=False)
    group, category = _auto_group(people, people.rita, gone, people.alice)
    for n in range(3):
        assert report(people, f"Thing {n}", category=category).assignee == people.alice
    assert auto_assignee(group) == people.alice


def test_a_group_with_nobody_to_assign_leaves_the_incident_unassigned(people):
    _, category = _auto_group(people, people.rita)
    incident = report(people, "Nobody home", category=category)
    assert (incident.state, incident.assignee) == ("escalated", None)
