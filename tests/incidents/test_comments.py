"""Replies, internal notes and attachments, and what a reply does to the incident."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.models import Attachment, Comment, Incident, IncidentEvent
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.build import incident_in, requester, snapshot


def hold(people, reason: str) -> Incident:
    incident = incident_in(people, "diagnosing")
    return services.incident_hold(
        incident=incident,
        actor=people.actor(people.alice),
        hold_reason=reason,
        note="Asked the caller for the error message",
    )


def test_a_requester_cannot_write_an_internal_note(people):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(NotAllowed, match="Only the desk's agents can write internal notes"):
        services.comment_add(
            incident=incident, actor=people.actor(people.rita), body="psst", public=False
        )
    assert snapshot(incident) == before
    assert not Comment.objects.exists()


def test_a_requester_who_neither_reported_nor_joined_cannot_reply(people):
    incident = incident_in(people, "diagnosing")
    with pytest.raises(NotAllowed, match="only comment on incidents you reported or joined"):
        services.comment_add(incident=incident, actor=people.actor(requester(people)), body="Hi")


def test_an_affected_user_may_reply(people):
    ron = requester(people)
    incident = incident_in(people, "diagnosing")
    services.incident_join(incident=incident, actor=people.actor(ron), user=ron)
    comment = services.comment_add(incident=incident, actor=people.actor(ron), body="Me too")
    assert (comment.author, comment.public) == (ron, True)


def test_the_callers_reply_resumes_an_incident_awaiting_the_caller(people):
    incident = hold(people, "awaiting_caller")

    services.comment_add(
        incident=incident, actor=people.actor(people.rita), body="The error is 809."
    )

    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.hold_reason) == ("diagnosing", "")
    comment_event, resume_event = list(IncidentEvent.objects.filter(incident=incident))[-2:]
    assert (comment_event.kind, comment_event.actor_user) == ("comment", people.rita)
    assert (resume_event.transition, resume_event.from_state, resume_event.to_state) == (
        "resume",
        "on_hold",
        "diagnosing",
    )
    assert (resume_event.actor_kind, resume_event.reason) == ("system", "Rita Requester replied")
    assert resume_event.data == {"hold_reason": "awaiting_caller"}


@pytest.mark.parametrize("reason", ["awaiting_vendor", "awaiting_change", "awaiting_problem"])
def test_the_callers_reply_does_not_resume_other_holds(people, reason):
    incident = hold(people, reason)
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Any news?")
    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.state, stored.hold_reason) == ("on_hold", reason)
    assert IncidentEvent.objects.filter(incident=incident).last().kind == "comment"


def test_an_agents_reply_does_not_resume_an_incident_awaiting_the_caller(people):
    incident = hold(people, "awaiting_caller")
    services.comment_add(incident=incident, actor=people.actor(people.bob), body="Any news?")
    assert Incident.objects.get(pk=incident.pk).state == "on_hold"


def test_the_first_public_agent_reply_acknowledges_the_incident(people):
    incident = incident_in(people, "escalated")
    assert incident.acknowledged_at is None
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Hello?")
    services.comment_add(
        incident=incident, actor=people.actor(people.alice), body="Looking", public=False
    )
    services.comment_add(
        incident=incident, actor=Actor.system(people.acme, "Monitoring"), body="Still down"
    )
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None

    services.comment_add(incident=incident, actor=people.actor(people.bob), body="On it")
    first = Incident.objects.get(pk=incident.pk).acknowledged_at
    assert first is not None

    services.comment_add(incident=incident, actor=people.actor(people.alice), body="Fixed?")
    assert Incident.objects.get(pk=incident.pk).acknowledged_at == first


def test_every_comment_moves_the_version_and_writes_one_event(people):
    incident = incident_in(people, "escalated")
    events = IncidentEvent.objects.filter(incident=incident).count()
    services.comment_add(
        incident=incident, actor=people.actor(people.alice), body="Checking logs", public=False
    )
    stored = Incident.objects.get(pk=incident.pk)
    assert stored.version == incident.version + 1
    assert IncidentEvent.objects.filter(incident=incident).count() == events + 1
    note = IncidentEvent.objects.filter(incident=incident).last()
    assert (note.kind, note.public, note.reason) == ("note", False, "Checking logs")


def test_a_comment_on_a_closed_incident_is_refused(people):
    incident = incident_in(people, "closed")
    with pytest.raises(InvalidInput, match="INC-000001 is closed; report a new incident"):
        services.comment_add(incident=incident, actor=people.actor(people.rita), body="Again")


def upload(name: str, size: int, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, b"x" * size, content_type=content_type)


def test_an_attachment_over_the_size_limit_is_refused(people, settings):
    settings.ATTACHMENT_MAX_BYTES = 2048
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.comment_add(
            incident=incident,
            actor=people.actor(people.rita),
            body="Log attached",
            files=[upload("vpn.log.txt", 4096, "text/plain")],
        )
    assert refused.value.field == "attachments"
    assert refused.value.message == ("vpn.log.txt is 4.0\xa0KB; files are limited to 2.0\xa0KB.")
    assert snapshot(incident) == before
    assert not Comment.objects.exists() and not Attachment.objects.exists()


@pytest.mark.parametrize("name", ["setup.exe", "script.sh", "noextension"])
def test_an_attachment_of_a_refused_type_is_refused(people, name):
    incident = incident_in(people, "diagnosing")
    before = snapshot(incident)
    with pytest.raises(InvalidInput) as refused:
        services.attachment_add(
            incident=incident,
            actor=people.actor(people.rita),
            upload=upload(name, 10, "image/png"),  # the browser's word is not trusted
        )
    assert refused.value.message.startswith(f"{name}: this type of file is not accepted.")
    assert snapshot(incident) == before
    assert not Attachment.objects.exists()


def test_an_accepted_attachment_is_stored_with_the_comment(people):
    incident = incident_in(people, "diagnosing")
    comment = services.comment_add(
        incident=incident,
        actor=people.actor(people.rita),
        body="Screenshot",
        files=[upload("error.png", 100)],
    )
    attachment = Attachment.objects.get()
    assert (attachment.comment, attachment.tenant, attachment.content_type) == (
        comment,
        people.acme,
        "image/png",
    )
    assert (attachment.size, attachment.public, attachment.uploaded_by) == (100, True, people.rita)
    assert attachment.file.read() == b"x" * 100
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert event.data == {"comment_id": comment.pk, "attachments": 1}


def test_a_requester_cannot_attach_an_internal_file(people):
    incident = incident_in(people, "diagnosing")
    with pytest.raises(NotAllowed, match="Only the desk's agents can attach internal files"):
        services.attachment_add(
            incident=incident,
            actor=people.actor(people.rita),
            upload=upload("notes.txt", 10),
            public=False,
        )
