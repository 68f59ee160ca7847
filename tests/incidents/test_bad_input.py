"""Bad input is refused with a message a person can act on, naming the field, changing nothing."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.errors import InvalidTransition
from incidents.models import Incident, IncidentEvent
from tenancy.errors import InvalidInput, NotAllowed
from tests.factories import CategoryFactory
from tests.incidents.build import incident_in, report, snapshot


@pytest.mark.parametrize("impact", ["critical", "", "HIGH"])
def test_reporting_with_a_wrong_impact_is_refused(people, impact):
    with pytest.raises(InvalidInput) as refused:
        report(people, impact=impact)
    assert refused.value.field == "impact"
    assert refused.value.message == (f"Impact must be one of high, medium or low (got {impact!r}).")
    assert not Incident.objects.exists()


def test_reporting_with_a_wrong_urgency_is_refused(people):
    with pytest.raises(InvalidInput, match="Urgency must be one of high, medium or low"):
        report(people, urgency="urgent")


def test_a_refused_report_does_not_use_up_a_number(people):
    with pytest.raises(InvalidInput):
        report(people, impact="critical")
    assert report(people).reference == "INC-000001"


def test_a_title_too_long_is_refused(people):
    with pytest.raises(InvalidInput) as refused:
        report(people, title="x" * 201)
    assert (refused.value.field, refused.value.message) == (
        "title",
        "The title is limited to 200 characters.",
    )
    assert report(people, title="x" * 200).title == "x" * 200


def test_a_blank_title_is_refused(people):
    with pytest.raises(InvalidInput, match="Give the incident a short title"):
        report(people, title="   ")


def test_a_category_of_another_tenant_is_refused(people):
    globex_category = CategoryFactory(tenant=people.globex, name="Printers")
    with pytest.raises(InvalidInput) as refused:
        report(people, category=globex_category)
    assert (refused.value.field, refused.value.message) == (
        "category",
        "Choose one of the categories offered.",
    )
    assert not Incident.objects.exists()


def test_an_edit_to_a_category_of_another_tenant_is_refused(people):
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="Choose one of the categories offered"):
        services.incident_update(
            incident=incident,
            actor=people.actor(people.alice),
            category=CategoryFactory(tenant=people.globex),
        )
    assert snapshot(incident) == before


def test_a_requester_cannot_report_in_someone_elses_name(people):
    with pytest.raises(NotAllowed, match="only report incidents in your own name"):
        report(people, reporter=people.max)


def test_an_agent_cannot_report_for_someone_outside_the_tenant(people):
    with pytest.raises(InvalidInput) as refused:
        report(people, actor=people.actor(people.alice), reporter=people.charlie)
    assert (refused.value.field, refused.value.message) == (
        "reporter",
        "charlie@globex.test is not a member of this desk.",
    )


def test_a_malformed_contact_email_is_refused(people):
    with pytest.raises(InvalidInput) as refused:
        report(people, contact_email="rita at acme")
    assert refused.value.field == "contact_email"


def test_a_transition_from_the_wrong_state_says_what_is_allowed(people):
    incident = incident_in(people, "closed")
    before = snapshot(incident)
    with pytest.raises(InvalidTransition) as refused:
        services.incident_reopen(
            incident=incident, actor=people.actor(people.rita), reason="Broken again"
        )
    assert refused.value.message == (
        "INC-000001 is closed; it cannot be reopened from there. Allowed now: nothing (final)."
    )
    assert snapshot(incident) == before


def _resolve(people, incident, **fields):
    fields.setdefault("resolution_code", "solved-permanently")
    fields.setdefault("resolution_notes", "Restarted the service.")
    return services.incident_resolve(incident=incident, actor=people.actor(people.alice), **fields)


@pytest.mark.parametrize("notes", ["", "   ", None])
def test_resolving_requires_notes(people, notes):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        _resolve(people, incident, resolution_notes=notes)
    assert (refused.value.field, refused.value.message) == (
        "resolution_notes",
        "Describe what you found and the steps taken to restore service.",
    )
    assert snapshot(incident) == before


@pytest.mark.parametrize("code", [None, "", "fixed-by-magic"])
def test_resolving_requires_a_known_resolution_code(people, code):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        _resolve(people, incident, resolution_code=code)
    assert (refused.value.field, refused.value.message) == (
        "resolution_code",
        "Choose a resolution code.",
    )
    assert snapshot(incident) == before


def test_reopening_requires_a_reason(people):
    incident = incident_in(people, "resolved")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="Say what is still wrong"):
        services.incident_reopen(incident=incident, actor=people.actor(people.rita), reason=" ")
    assert snapshot(incident) == before


@pytest.mark.parametrize("reason", ["awaiting_godot", "", "Awaiting_Caller"])
def test_an_unknown_hold_reason_is_refused(people, reason):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.incident_hold(
            incident=incident, actor=people.actor(people.alice), hold_reason=reason
        )
    assert refused.value.field == "hold_reason"
    assert refused.value.message == (
        "Choose why it waits: one of awaiting_caller, awaiting_vendor, awaiting_change, "
        "awaiting_problem."
    )
    assert snapshot(incident) == before


@pytest.mark.parametrize("rating", [0, 6, -1, True, 4.5, "5"])
def test_a_rating_outside_one_to_five_is_refused(people, rating):
    incident = incident_in(people, "resolved")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.incident_close(incident=incident, actor=people.actor(people.rita), rating=rating)
    assert (refused.value.field, refused.value.message) == (
        "rating",
        "The rating is a whole number from 1 to 5.",
    )
    assert snapshot(incident) == before


@pytest.mark.parametrize("rating", [1, 5])
def test_ratings_one_and_five_are_kept(people, rating):
    incident = incident_in(people, "resolved")
    services.incident_close(
        incident=incident, actor=people.actor(people.rita), rating=rating, comment=" Quick "
    )
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.satisfaction_rating, stored.satisfaction_comment) == (rating, "Quick")


def test_cancelling_without_a_reason_is_refused(people):
    incident = incident_in(people, "escalated")
    with pytest.raises(InvalidInput, match="Say why the incident is cancelled"):
        services.incident_cancel(incident=incident, actor=people.actor(people.alice), reason="")


def test_an_incident_cannot_be_a_duplicate_of_itself(people):
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.incident_cancel(
            incident=incident,
            actor=people.actor(people.alice),
            reason="",
            duplicate_of=Incident.objects.get(pk=incident.pk),
        )
    assert (refused.value.field, refused.value.message) == (
        "duplicate_of",
        "An incident cannot be a duplicate of itself.",
    )
    assert snapshot(incident) == before


def test_an_incident_cannot_be_a_duplicate_of_another_tenants_incident(people):
    incident = incident_in(people, "escalated")
    theirs = services.incident_report(
        actor=people.actor(people.charlie, people.globex), title="Printer jam"
    )
    before, theirs_before = snapshot(incident), snapshot(theirs)
    with pytest.raises(InvalidInput) as refused:
        services.incident_cancel(
            incident=incident, actor=people.actor(people.alice), reason="", duplicate_of=theirs
        )
    assert (refused.value.field, refused.value.message) == (
        "duplicate_of",
        "No such incident to mark this one a duplicate of.",
    )
    assert (snapshot(incident), snapshot(theirs)) == (before, theirs_before)


def test_an_incident_cannot_be_a_duplicate_of_a_closed_one(people):
    closed = incident_in(people, "closed")
    incident = incident_in(people, "escalated")
    before = snapshot(incident)
    with pytest.raises(InvalidInput, match="INC-000001 is closed; choose an open incident"):
        services.incident_cancel(
            incident=incident, actor=people.actor(people.alice), reason="", duplicate_of=closed
        )
    assert snapshot(incident) == before
    assert not IncidentEvent.objects.filter(incident=closed, kind="joined").exists()
