"""Parent (major) incidents: linking rules and how children follow their parent."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.errors import StaleIncident
from incidents.models import EventKind, IncidentEvent
from incidents.services.parent import (
    incident_link_children,
    incident_link_parent,
    incident_unlink_parent,
)
from tenancy.errors import InvalidInput, NotAllowed
from tests.desk.desk_support import fresh, report, routed


@pytest.fixture
def major(people):
    """A major incident alice is diagnosing, with two children: one escalated, one new."""
    alice = people.actor(people.alice)
    parent = services.incident_accept(incident=routed(people, "Email down for all"), actor=alice)
    escalated = routed(people, "No email on my laptop")
    new = report(people, "Outlook says offline")
    parent = incident_link_children(
        incident=parent, actor=alice, children=[escalated, new], expected_version=parent.version
    )
    return parent, fresh(escalated), fresh(new)


def _last_event(incident):
    return IncidentEvent.objects.filter(incident=incident).order_by("-id").first()


def test_linking_records_an_event_on_both_incidents(people, major):
    parent, escalated, new = major
    assert escalated.parent_id == parent.pk and new.parent_id == parent.pk
    assert _last_event(escalated).kind == EventKind.LINKED
    assert "INC-000001" in _last_event(escalated).reason
    reasons = list(
        IncidentEvent.objects.filter(incident=parent, kind=EventKind.LINKED).values_list(
            "reason", flat=True
        )
    )
    assert reasons == [
        f"{escalated.reference} linked as a child",
        f"{new.reference} linked as a child",
    ]


def test_links_are_one_level_deep(people, major):
    parent, escalated, _ = major
    alice = people.actor(people.alice)
    other = report(people, "Another")
    with pytest.raises(InvalidInput, match="itself a child"):
        incident_link_parent(incident=other, actor=alice, parent=escalated)
    with pytest.raises(InvalidInput, match="parent of other incidents"):
        incident_link_parent(incident=parent, actor=alice, parent=other)


def test_an_incident_cannot_be_its_own_parent(people):
    incident = report(people)
    with pytest.raises(InvalidInput, match="own parent"):
        incident_link_parent(incident=incident, actor=people.actor(people.alice), parent=incident)


def test_a_child_with_a_parent_must_be_unlinked_first(people, major):
    _, escalated, _ = major
    alice = people.actor(people.alice)
    other = report(people, "Other major")
    with pytest.raises(InvalidInput, match="unlink it first"):
        incident_link_parent(incident=escalated, actor=alice, parent=other)
    incident_unlink_parent(incident=escalated, actor=alice)
    linked = incident_link_parent(incident=fresh(escalated), actor=alice, parent=other)
    assert linked.parent_id == other.pk


def test_only_open_incidents_are_linked(people):
    alice = people.actor(people.alice)
    closed = services.incident_cancel(incident=report(people), actor=alice, reason="Test")
    with pytest.raises(InvalidInput, match="only open incidents"):
        incident_link_parent(incident=report(people, "Open"), actor=alice, parent=closed)


def test_requesters_cannot_link_incidents(people):
    with pytest.raises(NotAllowed):
        incident_link_parent(
            incident=report(people), actor=people.actor(people.rita), parent=report(people)
        )


def test_linking_checks_the_version_the_agent_saw(people):
    child, parent = report(people, "Child"), report(people, "Parent")
    other = report(people, "Other")
    seen = child.version
    incident_link_parent(incident=child, actor=people.actor(people.bob), parent=other)
    with pytest.raises(StaleIncident, match="Bob Agent linked to parent"):
        incident_link_parent(
            incident=child, actor=people.actor(people.alice), parent=parent, expected_version=seen
        )


def test_children_follow_the_parent_on_hold_with_its_kind(people, major):
    parent, escalated, new = major
    services.incident_hold(
        incident=parent,
        actor=people.actor(people.alice),
        hold_reason="awaiting_vendor",
        note="Vendor ticket 42",
    )
    escalated, new = fresh(escalated), fresh(new)
    assert (escalated.state, escalated.hold_reason) == ("on_hold", "awaiting_vendor")
    event = _last_event(escalated)
    assert (event.transition, event.actor_kind, event.actor_name) == (
        "hold",
        "system",
        f"Parent {parent.reference}",
    )
    assert f"Follows parent {parent.reference}" in event.reason
    assert new.state == "reported"  # a new incident cannot wait yet: it is left as it is


def test_children_do_not_follow_a_parent_awaiting_its_own_caller(people, major):
    parent, escalated, _ = major
    services.incident_hold(
        incident=parent, actor=people.actor(people.alice), hold_reason="awaiting_caller"
    )
    assert fresh(escalated).state == "escalated"


def test_children_the_parent_held_resume_with_it(people, major):
    parent, escalated, _ = major
    alice = people.actor(people.alice)
    own_hold = services.incident_hold(
        incident=services.incident_accept(incident=routed(people, "Held on its own"), actor=alice),
        actor=alice,
        hold_reason="awaiting_caller",
    )
    incident_link_parent(incident=own_hold, actor=alice, parent=fresh(parent))
    parent = services.incident_hold(
        incident=fresh(parent), actor=alice, hold_reason="awaiting_change"
    )
    services.incident_resume(incident=parent, actor=alice)
    assert fresh(escalated).state == "diagnosing"
    assert fresh(own_hold).state == "on_hold"  # it waits for its own caller still


def test_resolving_the_parent_resolves_children_with_its_resolution(people, major):
    parent, escalated, new = major
    services.incident_resolve(
        incident=parent,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Mail server certificate renewed.",
    )
    for child in (fresh(escalated), fresh(new)):
        assert child.state == "resolved"
        assert child.resolution_code.slug == "solved-permanently"
        assert child.resolution_notes == "Mail server certificate renewed."
        assert _last_event(child).actor_name == f"Parent {parent.reference}"


def test_a_reported_child_is_first_escalated_to_the_parents_group(people, major):
    parent, _, new = major
    services.incident_resolve(
        incident=parent,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Fixed.",
    )
    transitions = list(
        IncidentEvent.objects.filter(incident=new, kind=EventKind.TRANSITION).values_list(
            "transition", "actor_kind", "actor_name"
        )
    )
    name = f"Parent {parent.reference}"
    assert transitions == [("escalate", "system", name), ("resolve", "system", name)]
    assert fresh(new).group_id == people.group.pk


def test_closing_the_parent_leaves_the_children_resolved(people, major):
    parent, escalated, _ = major
    alice = people.actor(people.alice)
    parent = services.incident_resolve(
        incident=parent, actor=alice, resolution_code="solved-permanently", resolution_notes="ok"
    )
    services.incident_close(incident=parent, actor=people.actor(people.rita), rating=5)
    assert fresh(parent).state == "closed"
    assert fresh(escalated).state == "resolved"


def test_reopening_the_parent_reopens_only_the_children_it_resolved(people, major):
    parent, escalated, new = major
    alice = people.actor(people.alice)
    # `new` is resolved on its own first; the parent then resolves `escalated` only.
    services.incident_resolve_first_contact(
        incident=new, actor=alice, resolution_code="user-error", resolution_notes="Offline mode."
    )
    parent = services.incident_resolve(
        incident=parent, actor=alice, resolution_code="solved-permanently", resolution_notes="ok"
    )
    services.incident_reopen(incident=parent, actor=people.actor(people.rita), reason="Down again")
    escalated, new = fresh(escalated), fresh(new)
    assert escalated.state == "diagnosing"
    assert new.state == "resolved"
    event = _last_event(escalated)
    assert event.transition == "reopen"
    assert event.reason == f"Parent {parent.reference} was reopened: Down again"


def test_a_child_reopened_and_resolved_by_its_agent_is_not_reopened_by_the_parent(people, major):
    parent, escalated, _ = major
    alice = people.actor(people.alice)
    parent = services.incident_resolve(
        incident=parent, actor=alice, resolution_code="solved-permanently", resolution_notes="ok"
    )
    child = services.incident_reopen(incident=fresh(escalated), actor=alice, reason="Not for me")
    services.incident_resolve(
        incident=child, actor=alice, resolution_code="user-error", resolution_notes="Own fix"
    )
    services.incident_reopen(incident=fresh(parent), actor=alice, reason="Down again")
    assert fresh(escalated).state == "resolved"


def test_unlinking_records_an_event_on_both(people, major):
    parent, escalated, _ = major
    child = incident_unlink_parent(incident=escalated, actor=people.actor(people.alice))
    assert child.parent_id is None
    assert _last_event(child).reason == f"Unlinked from parent {parent.reference}"
    assert _last_event(parent).reason == f"{child.reference} unlinked"
