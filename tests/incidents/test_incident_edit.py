"""Edits outside the lifecycle: impact and urgency (priority re-derived, reason kept),
reassignment, diagnosis; each one event, each moving the version."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.errors import StaleIncident
from incidents.models import Incident, IncidentEvent
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import Role
from tests.factories import GroupFactory, add_to_group
from tests.incidents.build import incident_in, member, requester, snapshot


def test_raising_impact_rederives_priority_and_records_why(people):
    incident = incident_in(people, "diagnosing")  # medium x medium: medium
    updated = services.incident_update(
        incident=incident,
        actor=people.actor(people.alice),
        impact="high",
        urgency="high",
        reason="The whole sales floor is offline",
    )
    stored = Incident.objects.select_related("priority").get(pk=incident.pk)
    assert (stored.impact, stored.urgency, stored.priority.slug, stored.priority_rank) == (
        "high",
        "high",
        "high",
        1,
    )
    assert updated.version == stored.version == incident.version + 1
    # The last change of fields (the SLA re-target that follows is its own, internal event).
    event = IncidentEvent.objects.filter(incident=incident).exclude(kind="sla").last()
    assert event.kind == "field_changed"
    assert event.reason == "The whole sales floor is offline"
    assert event.actor_user == people.alice
    assert event.data["changes"] == {
        "impact": ["medium", "high"],
        "urgency": ["medium", "high"],
        "priority": ["medium", "high"],
        "priority_rank": [2, 1],
    }


def test_changing_urgency_without_a_reason_is_refused(people):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.incident_update(
            incident=incident, actor=people.actor(people.alice), urgency="low", reason="  "
        )
    assert (refused.value.field, refused.value.message) == (
        "reason",
        "Say why impact or urgency changes.",
    )
    assert snapshot(incident) == before


def test_a_title_change_needs_no_reason_and_keeps_priority(people):
    incident = incident_in(people, "escalated")
    services.incident_update(
        incident=incident, actor=people.actor(people.rita), title="VPN drops at noon"
    )
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.title, stored.priority_id) == ("VPN drops at noon", incident.priority_id)
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert event.data["changes"] == {"title": ["VPN drops every hour", "VPN drops at noon"]}


def test_an_unchanged_value_writes_no_event_and_keeps_the_version(people):
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    services.incident_update(
        incident=incident, actor=people.actor(people.alice), impact="medium", reason="Same"
    )
    assert snapshot(incident) == before


def test_another_requester_cannot_edit_ritas_incident(people):
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="Only the desk's agents can change this incident"):
        services.incident_update(
            incident=incident, actor=people.actor(requester(people)), title="Mine now"
        )
    assert snapshot(incident) == before


def test_a_closed_incident_can_no_longer_be_edited(people):
    incident = incident_in(people, "closed")
    with pytest.raises(InvalidInput, match="INC-000001 is closed; it can no longer be changed"):
        services.incident_update(incident=incident, actor=people.actor(people.alice), title="x")


def test_a_stale_edit_is_refused_naming_who_changed_what(people):
    """The same check as under PostgreSQL's concurrency tests, here one step after another."""
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_update(
        incident=incident, actor=people.actor(people.bob), title="VPN down for everyone"
    )
    before = snapshot(incident)
    with pytest.raises(StaleIncident) as refused:
        services.incident_update(
            incident=incident,
            actor=people.actor(people.alice),
            title="VPN down in Lyon",
            expected_version=seen,
        )
    assert refused.value.message == (
        "INC-000001 was changed by someone else since you opened it: Bob Agent changed the "
        "title. Review the current version and try again; your text is kept."
    )
    assert refused.value.current_version == seen + 1
    assert snapshot(incident) == before


def test_an_agent_reassigns_within_the_group_and_the_count_rises(people):
    incident = incident_in(people, "diagnosing")  # alice holds it
    moved = services.incident_reassign(
        incident=incident,
        actor=people.actor(people.alice),
        group=people.group,
        assignee=people.bob,
        reason="Bob knows this router",
    )
    assert (moved.assignee, moved.reassignment_count, moved.state) == (people.bob, 1, "diagnosing")
    assert moved.assigned_at is not None and moved.assigned_at > incident.assigned_at
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert (event.kind, event.reason) == ("assigned", "Bob knows this router")
    assert event.data["changes"]["assignee"] == ["alice@acme.test", "bob@acme.test"]


def test_reassigning_to_someone_outside_the_target_group_is_refused(people):
    gina = member(people, "gina@acme.test", Role.AGENT)
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="gina@acme.test is not a member of Service Desk"):
        services.incident_reassign(
            incident=incident, actor=people.actor(people.max), group=people.group, assignee=gina
        )
    assert snapshot(incident) == before


def test_an_agent_outside_the_group_cannot_reassign_but_a_manager_can(people):
    gina = member(people, "gina@acme.test", Role.AGENT)
    other = GroupFactory(tenant=people.acme, name="Field Service")
    add_to_group(other, gina)
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="Only an agent of the incident's group or a manager"):
        services.incident_reassign(
            incident=incident, actor=people.actor(gina), group=other, assignee=gina
        )
    assert snapshot(incident) == before
    moved = services.incident_reassign(
        incident=incident, actor=people.actor(people.max), group=other, assignee=gina
    )
    assert (moved.group, moved.assignee, moved.reassignment_count) == (other, gina, 1)


def test_moving_to_another_group_counts_as_a_reassignment_on_escalation(people):
    other = GroupFactory(tenant=people.acme, name="Network Team")
    incident = incident_in(people, "diagnosing")
    escalated = services.incident_escalate(
        incident=incident, actor=people.actor(people.alice), group=other, reason="Core switch"
    )
    assert (escalated.group, escalated.assignee, escalated.reassignment_count) == (other, None, 1)


def test_a_reported_incident_is_escalated_not_reassigned(people):
    incident = incident_in(people, "reported")
    with pytest.raises(InvalidInput, match="still in the Unassigned queue; escalate it instead"):
        services.incident_reassign(
            incident=incident, actor=people.actor(people.max), group=people.group, assignee=None
        )


def test_recording_one_diagnosis_field_keeps_the_others(people):
    incident = incident_in(people, "diagnosing")
    alice = people.actor(people.alice)
    services.incident_record_diagnosis(
        incident=incident,
        actor=alice,
        root_cause="Expired certificate",
        workaround="Use the web VPN",
    )
    services.incident_record_diagnosis(
        incident=Incident.objects.get(pk=incident.pk), actor=alice, cause_category="Config"
    )
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.cause_category, stored.root_cause, stored.workaround) == (
        "Config",
        "Expired certificate",
        "Use the web VPN",
    )
    notes = IncidentEvent.objects.filter(incident=incident, reason="Diagnosis")
    assert [e.public for e in notes] == [False, False]


def test_a_cause_category_over_a_hundred_characters_is_refused(people):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="limited to 100 characters"):
        services.incident_record_diagnosis(
            incident=incident, actor=people.actor(people.alice), cause_category="x" * 101
        )
    assert snapshot(incident) == before
