"""Which changes since the version a page loaded refuse a write (incidents/services/conflicts.py):
talk never conflicts, field changes only with the same fields, transitions with transitions; a
refusal names who did what in words."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.errors import StaleIncident
from incidents.models import Incident
from tests.incidents.build import incident_in, report, snapshot


def _fresh(incident: Incident) -> Incident:
    return Incident.objects.get(pk=incident.pk)


def _refused(call, **kwargs) -> str:
    with pytest.raises(StaleIncident) as refused:
        call(**kwargs)
    return refused.value.message


def test_a_note_goes_through_after_the_requester_commented_meanwhile(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Still down")
    note = services.comment_add(
        incident=incident,
        actor=people.actor(people.alice),
        body="Checked the router logs",
        public=False,
        expected_version=seen,
    )
    assert (note.public, note.body) == (False, "Checked the router logs")
    assert _fresh(incident).version == seen + 2


def test_a_public_reply_goes_through_after_a_colleague_accepted(people):
    incident = report(people)
    seen = incident.version
    services.incident_accept(incident=incident, actor=people.actor(people.bob))
    reply = services.comment_add(
        incident=incident,
        actor=people.actor(people.alice),
        body="We are on it",
        expected_version=seen,
    )
    assert reply.public and _fresh(incident).assignee == people.bob


def test_a_file_goes_through_after_someone_put_it_on_hold(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_hold(
        incident=incident, actor=people.actor(people.bob), hold_reason="awaiting_vendor"
    )
    attachment = services.attachment_add(
        incident=incident,
        actor=people.actor(people.alice),
        upload=SimpleUploadedFile("trace.txt", b"hop 3 lost", content_type="text/plain"),
        expected_version=seen,
    )
    assert attachment.name == "trace.txt"


def test_a_priority_change_after_another_one_is_refused_in_words(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_update(
        incident=incident,
        actor=people.actor(people.bob),
        impact="high",
        urgency="high",
        reason="Whole floor",
    )
    before = snapshot(incident)
    message = _refused(
        services.incident_update,
        incident=incident,
        actor=people.actor(people.alice),
        urgency="low",
        reason="Only one user",
        expected_version=seen,
    )
    assert "since you opened it: Bob Agent changed the priority to High." in message
    for column in ("priority_rank", "urgency", "impact", "sla"):
        assert column not in message
    assert snapshot(incident) == before


def test_an_impact_and_urgency_change_that_keeps_the_level_is_named_by_its_fields(people):
    incident = incident_in(people, "diagnosing")  # medium impact, medium urgency: Medium
    seen = incident.version
    services.incident_update(
        incident=incident,
        actor=people.actor(people.bob),
        impact="low",
        urgency="high",
        reason="One user, but blocked",
    )
    assert _fresh(incident).priority.label == "Medium"
    message = _refused(
        services.incident_update,
        incident=incident,
        actor=people.actor(people.alice),
        impact="high",
        reason="More users",
        expected_version=seen,
    )
    assert "Bob Agent changed the impact to Low and changed the urgency to High." in message


def test_a_change_to_other_fields_goes_through_and_keeps_theirs(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_update(
        incident=incident, actor=people.actor(people.bob), title="VPN down in Lyon"
    )
    services.incident_update(
        incident=incident,
        actor=people.actor(people.alice),
        description="Only the Lyon office",
        expected_version=seen,
    )
    services.incident_update(
        incident=incident,
        actor=people.actor(people.max),
        impact="high",
        reason="CEO affected",
        expected_version=seen,
    )
    stored = _fresh(incident)
    assert (stored.title, stored.description, stored.impact) == (
        "VPN down in Lyon",
        "Only the Lyon office",
        "high",
    )


def test_a_field_change_goes_through_after_a_transition_that_did_not_touch_it(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_hold(
        incident=incident, actor=people.actor(people.bob), hold_reason="awaiting_vendor"
    )
    services.incident_update(
        incident=incident,
        actor=people.actor(people.alice),
        urgency="high",
        reason="CEO affected",
        expected_version=seen,
    )
    stored = _fresh(incident)
    assert (stored.state, stored.urgency) == ("on_hold", "high")


def test_a_reassignment_after_someone_took_it_is_refused(people):
    incident = report(people)
    seen = incident.version
    services.incident_accept(incident=incident, actor=people.actor(people.bob))
    message = _refused(
        services.incident_reassign,
        incident=incident,
        actor=people.actor(people.max),
        group=people.group,
        assignee=people.alice,
        expected_version=seen,
    )
    assert "Bob Agent moved it to in progress" in message
    assert _fresh(incident).assignee == people.bob


def test_a_reassignment_is_named_with_the_new_holder(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_reassign(
        incident=incident,
        actor=people.actor(people.alice),
        group=people.group,
        assignee=people.bob,
    )
    message = _refused(
        services.incident_reassign,
        incident=incident,
        actor=people.actor(people.max),
        group=people.group,
        assignee=people.alice,
        expected_version=seen,
    )
    assert "Alice Agent assigned it to Bob Agent" in message
    assert "bob@acme.test" not in message


def test_a_transition_after_another_transition_is_refused(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_hold(
        incident=incident, actor=people.actor(people.bob), hold_reason="awaiting_vendor"
    )
    message = _refused(
        services.incident_resolve,
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Rebooted",
        expected_version=seen,
    )
    assert "Bob Agent moved it to on hold" in message
    assert _fresh(incident).state == "on_hold"


def test_a_transition_goes_through_after_talk_and_field_changes(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    bob = people.actor(people.bob)
    services.comment_add(incident=incident, actor=bob, body="Any news?", public=False)
    services.incident_update(incident=incident, actor=bob, urgency="high", reason="CEO affected")
    services.incident_hold(
        incident=incident,
        actor=people.actor(people.alice),
        hold_reason="awaiting_vendor",
        expected_version=seen,
    )
    assert _fresh(incident).state == "on_hold"


def test_a_second_diagnosis_on_a_stale_page_is_refused(people):
    incident = incident_in(people, "diagnosing")
    seen = incident.version
    services.incident_record_diagnosis(
        incident=incident, actor=people.actor(people.bob), root_cause="Expired certificate"
    )
    message = _refused(
        services.incident_record_diagnosis,
        incident=incident,
        actor=people.actor(people.alice),
        root_cause="Faulty cable",
        expected_version=seen,
    )
    assert "Bob Agent recorded a diagnosis" in message


def test_a_version_the_incident_never_had_is_refused(people):
    incident = incident_in(people, "diagnosing")
    message = _refused(
        services.comment_add,
        incident=incident,
        actor=people.actor(people.alice),
        body="From the future",
        expected_version=incident.version + 5,
    )
    assert "was changed by someone else" in message
