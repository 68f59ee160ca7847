"""Emails to the reporter and affected users for each step, and the way to stop them."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core import mail

from incidents import services
from incidents.models import Incident, IncidentMute
from tests.factories import CategoryFactory
from tests.links import assert_plain_404
from tests.portal.conftest import mails_to

BOTH = ["paul@acme.test", "rita@acme.test"]


def sent(subject_part: str) -> list[str]:
    return sorted(to for m in mail.outbox if subject_part in m.subject for to in m.to)


@pytest.fixture
def followed(people, desk, paul) -> Incident:
    """Rita's unrouted incident, joined by paul."""
    loose = CategoryFactory(tenant=people.acme, name="Other", slug="other", group=None)
    incident = desk.report(category=loose)
    desk.join(incident, paul)
    mail.outbox.clear()
    return Incident.objects.get(pk=incident.pk)


def test_reporting_acknowledges_the_reporter_only_once(people, desk):
    desk.report()  # routed: escalated at once, but the acknowledgement says it all
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["rita@acme.test"], "[INC-000001] We have your report: VPN drops every hour")
    ]


def test_escalation_and_start_of_work_reach_reporter_and_affected(people, desk, followed):
    alice = people.actor(people.alice)
    incident = desk.run(
        services.incident_escalate, incident=followed, actor=alice, group=people.group
    )
    assert sent("Passed to Service Desk") == BOTH
    desk.run(services.incident_accept, incident=incident, actor=alice)
    assert sent("Work has started") == BOTH
    assert "Alice Agent has started working on INC-000001" in mails_to("paul@acme.test")[-1].body


def test_public_replies_by_agents_are_sent_and_notes_are_not(people, desk, paul, followed):
    desk.reply(followed, "Could you send a screenshot?")
    assert sent("New reply from Alice Agent") == BOTH
    assert "Could you send a screenshot?" in mails_to("rita@acme.test")[-1].body
    mail.outbox.clear()
    desk.reply(followed, "Internal: suspect the proxy", public=False)
    desk.run(services.comment_add, incident=followed, actor=people.actor(paul), body="Me too")
    assert mail.outbox == []


def test_on_hold_awaiting_the_caller_asks_them(people, desk, followed):
    alice = people.actor(people.alice)
    incident = desk.accept(
        desk.run(services.incident_escalate, incident=followed, actor=alice, group=people.group)
    )
    mail.outbox.clear()
    incident = desk.run(
        services.incident_hold,
        incident=incident,
        actor=alice,
        hold_reason="awaiting_caller",
        note="Which office are you in?",
    )
    assert sent("We need your answer") == BOTH
    assert "Which office are you in?" in mail.outbox[0].body
    desk.run(services.incident_resume, incident=incident, actor=alice)
    mail.outbox.clear()
    desk.run(
        services.incident_hold,
        incident=incident,
        actor=alice,
        hold_reason="awaiting_vendor",
        note="Ticket 123 at the ISP",
    )
    assert mail.outbox == []  # waiting for a vendor asks nothing of them


def test_resolved_and_closed_reach_reporter_and_affected(people, desk, followed):
    incident = desk.run(
        services.incident_escalate,
        incident=followed,
        actor=people.actor(people.alice),
        group=people.group,
    )
    incident = desk.resolve(incident)
    assert sent("Resolved:") == BOTH
    desk.run(services.incident_close, incident=incident, actor=people.actor(people.rita), rating=5)
    assert sent("Closed:") == BOTH
    assert "Thank you for rating our help 5 out of 5." in mail.outbox[-1].body


def test_first_contact_resolution_sends_only_the_resolved_email(people, desk, followed):
    desk.run(
        services.incident_resolve_first_contact,
        incident=followed,
        actor=people.actor(people.alice),
        resolution_code="user-error",
        resolution_notes="Showed how to reconnect.",
    )
    assert sorted(m.subject.split("]")[1].split(":")[0].strip() for m in mail.outbox) == [
        "Resolved",
        "Resolved",
    ]


def test_every_email_says_how_to_stop_them(people, desk, followed):
    desk.reply(followed, "Hello")
    for message in mail.outbox:
        assert "To stop receiving emails about this incident" in message.body
        assert "/unsubscribe/" in message.body


def _unsubscribe_path(address: str) -> str:
    body = mails_to(address)[-1].body
    match = re.search(r"(\S+/unsubscribe/\S+)", body)
    assert match is not None, body
    return urlparse(match.group(1)).path


def test_the_unsubscribe_link_stops_emails_for_that_person_only(client, people, desk, followed):
    desk.reply(followed, "First")
    path = _unsubscribe_path("paul@acme.test")
    html = client.get(path).content.decode()
    assert "Stop the emails to paul@acme.test about INC-000001" in html
    assert not IncidentMute.objects.exists()  # opening the link changes nothing
    html = client.post(path, {"muted": "1"}).content.decode()
    assert "paul@acme.test will no longer get emails about INC-000001" in html
    mail.outbox.clear()
    desk.reply(followed, "Second")
    assert sent("New reply") == ["rita@acme.test"]
    client.post(path, {"muted": "0"})
    mail.outbox.clear()
    desk.reply(followed, "Third")
    assert sent("New reply") == BOTH


def test_the_reporter_can_stop_emails_too(client, people, desk, followed):
    desk.reply(followed, "First")
    client.post(_unsubscribe_path("rita@acme.test"), {"muted": "1"})
    mail.outbox.clear()
    desk.resolve(
        desk.run(
            services.incident_escalate,
            incident=followed,
            actor=people.actor(people.alice),
            group=people.group,
        )
    )
    assert set(sent("")) == {"paul@acme.test"}
    assert sent("Resolved:") == ["paul@acme.test"]


def test_a_tampered_unsubscribe_link_is_refused(client, desk, followed):
    desk.reply(followed, "First")
    path = _unsubscribe_path("paul@acme.test")
    response = client.post(path.replace("/unsubscribe/", "/unsubscribe/x"), {"muted": "1"})
    assert_plain_404(client, response, "INC-000001", followed.title, "paul@acme.test")
    assert not IncidentMute.objects.exists()


def test_an_unsubscribe_link_of_another_incident_is_refused(client, desk, followed):
    desk.reply(followed, "First")
    other = desk.report(title="Another")
    path = _unsubscribe_path("paul@acme.test").replace(
        "/incidents/1/", f"/incidents/{other.number}/"
    )
    response = client.post(path, {"muted": "1"})
    assert_plain_404(client, response, other.reference, "Another", followed.title)
    assert not IncidentMute.objects.exists()
