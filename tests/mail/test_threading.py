"""A conversation stays one incident: replies found by the desk's Message-IDs and subject token."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.core import mail as django_mail

from incidents.models import Comment, Incident, IncidentContact, IncidentState, Participant
from incidents.services.transitions import (
    incident_accept,
    incident_cancel,
    incident_escalate,
    incident_hold,
)
from mail.models import AutoAnswer, InboundMail, InboundStatus, IntakeAddress, MailPolicy
from mail.services.store import inbound_store
from tests.mail.intake import mail

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def intake(people) -> IntakeAddress:
    return IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")


def deliver(intake: IntakeAddress, message: EmailMessage) -> InboundMail:
    row, _ = inbound_store(raw=message.as_bytes(), intake=intake, via="smtp")
    row.refresh_from_db()
    return row


def sent_to(address: str) -> list:
    return [m for m in django_mail.outbox if address in m.to]


def reply_to(original, *, sender: str, body: str, cc: str = "") -> EmailMessage:
    """What a mail program writes when a person presses Reply (or Reply all)."""
    return mail(
        sender=sender,
        to=original.extra_headers.get("Reply-To", "help@acme.test"),
        cc=cc,
        subject="Re: " + original.subject,
        body=body + "\n\nOn Mon, 7 Dec 2026 at 09:00, Desk wrote:\n> " + original.body[:60],
        headers={
            "In-Reply-To": original.extra_headers["Message-ID"],
            "References": original.extra_headers["References"]
            + " "
            + original.extra_headers["Message-ID"],
        },
    )


def test_the_acknowledgement_is_threaded_and_answers_to_the_intake(intake, people):
    row = deliver(intake, mail(sender="rita@acme.test", to="help@acme.test"))
    assert row.status == InboundStatus.DONE, row.reason
    (ack,) = sent_to("rita@acme.test")
    incident = Incident.objects.get(tenant=people.acme)
    assert f"[{incident.reference}]" in ack.subject
    assert ack.extra_headers["Reply-To"] == "help@acme.test"
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert ack.extra_headers["References"].startswith("<incident.")


def test_replies_by_every_path_land_on_the_same_incident(intake, people):
    first = mail(sender="rita@acme.test", to="help@acme.test", cc="ada@acme.test")
    deliver(intake, first)
    incident = Incident.objects.get(tenant=people.acme)
    assert Participant.objects.filter(incident=incident, user=people.ada).exists()
    (ack,) = sent_to("rita@acme.test")
    # a reply to the acknowledgement, quoting it
    row = deliver(intake, reply_to(ack, sender="rita@acme.test", body="It jams again."))
    assert (row.status, row.incident_id) == (InboundStatus.DONE, incident.pk), row.reason
    # a reply-all by the colleague in CC, to Rita's first mail (not to the desk's)
    cc_reply = mail(
        sender="ada@acme.test",
        to="rita@acme.test",
        cc="help@acme.test",
        subject="Re: The printer is jammed",
        body="Same here on floor 3.",
        headers={"In-Reply-To": first["Message-ID"], "References": first["Message-ID"]},
    )
    assert deliver(intake, cc_reply).incident_id == incident.pk
    # Rita answering her own first mail
    own = mail(
        sender="rita@acme.test",
        to="help@acme.test",
        subject="Re: The printer is jammed",
        body="Forgot: it is the HP on floor 2.",
        headers={"In-Reply-To": first["Message-ID"]},
    )
    assert deliver(intake, own).incident_id == incident.pk
    assert Incident.objects.filter(tenant=people.acme).count() == 1
    bodies = list(Comment.objects.filter(incident=incident).values_list("body", flat=True))
    assert bodies == ["It jams again.", "Same here on floor 3.", "Forgot: it is the HP on floor 2."]


def test_subject_token_only_for_a_party(intake, people):
    deliver(intake, mail(sender="rita@acme.test", to="help@acme.test"))
    incident = Incident.objects.get(tenant=people.acme)
    token = f"Re: [{incident.reference}] The printer is jammed"
    stranger = deliver(intake, mail(sender="eve@evil.example", to="help@acme.test", subject=token))
    assert stranger.incident_id != incident.pk  # a new incident of their own, not a comment
    assert not Comment.objects.filter(incident=incident).exists()
    own = deliver(intake, mail(sender="rita@acme.test", to="help@acme.test", subject=token))
    assert own.incident_id == incident.pk


def test_a_contact_reply_resumes_an_incident_awaiting_the_caller(intake, people):
    deliver(intake, mail(sender="Carl <carl@supplier.example>", to="help@acme.test"))
    incident = Incident.objects.get(tenant=people.acme, contact_email="carl@supplier.example")
    alice = people.actor(people.alice)
    incident_escalate(incident=incident, actor=alice, group=people.group)
    incident_accept(incident=incident, actor=alice, assignee=people.alice)
    incident_hold(
        incident=incident, actor=alice, hold_reason="awaiting_caller", note="Which model?"
    )
    question = sent_to("carl@supplier.example")[-1]
    assert "Which model?" in question.body
    deliver(intake, reply_to(question, sender="carl@supplier.example", body="The HP 4250."))
    incident.refresh_from_db()
    assert incident.state == IncidentState.DIAGNOSING
    assert Comment.objects.get(incident=incident).author_name == "Carl"


def test_a_reply_to_a_closed_incident_opens_a_new_linked_one(intake, people):
    deliver(intake, mail(sender="rita@acme.test", to="help@acme.test"))
    incident = Incident.objects.get(tenant=people.acme)
    incident_cancel(incident=incident, actor=people.actor(people.alice), reason="Not ours")
    (ack,) = [m for m in sent_to("rita@acme.test")][:1]
    row = deliver(intake, reply_to(ack, sender="rita@acme.test", body="It is back."))
    new = Incident.objects.get(pk=row.incident_id)
    assert new.pk != incident.pk
    assert incident.reference in new.description


def test_cc_strangers_follow_only_when_the_policy_accepts(intake, people):
    MailPolicy.objects.create(
        tenant=people.acme, unknown_senders="domains", allowed_domains=["partner.example"]
    )
    deliver(
        intake,
        mail(sender="rita@acme.test", to="help@acme.test", cc="p@partner.example, x@other.example"),
    )
    incident = Incident.objects.get(tenant=people.acme)
    assert list(
        IncidentContact.objects.filter(incident=incident).values_list("email", flat=True)
    ) == ["p@partner.example"]


def test_refused_stranger_gets_one_explanation_a_day(intake, people):
    MailPolicy.objects.create(tenant=people.acme, unknown_senders="refuse")
    for n in range(3):
        row = deliver(
            intake, mail(sender="eve@evil.example", to="help@acme.test", subject=f"Hi {n}")
        )
        assert row.status == InboundStatus.REFUSED
        assert "refuses mail" in row.reason
    assert len(sent_to("eve@evil.example")) == 1
    assert AutoAnswer.objects.filter(address="eve@evil.example").count() == 1
    assert not Incident.objects.filter(tenant=people.acme).exists()


@pytest.mark.parametrize(
    "headers, sender, why",
    [
        ({"Auto-Submitted": "auto-replied"}, "rita@acme.test", "Auto-Submitted"),
        ({"X-Autoreply": "yes"}, "rita@acme.test", "X-Autoreply"),
        ({"Precedence": "bulk"}, "news@shop.example", "Precedence"),
        ({"List-Id": "<all.lists.example>"}, "list@lists.example", "List-Id"),
        ({}, "MAILER-DAEMON@mx.example", "mail system"),
        ({}, "help@acme.test", "loop"),
    ],
)
def test_loops_and_junk_are_kept_as_ignored(intake, people, headers, sender, why):
    row = deliver(intake, mail(sender=sender, to="help@acme.test", headers=headers))
    assert row.status == InboundStatus.IGNORED
    assert why in row.reason
    assert not Incident.objects.filter(tenant=people.acme).exists()
    assert not django_mail.outbox
