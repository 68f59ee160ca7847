"""The SMTP intake, spoken to with smtplib: refused recipients, sizes, stored then processed."""

from __future__ import annotations

import smtplib

import pytest

from incidents.models import Incident
from mail.models import InboundMail, InboundStatus, IntakeAddress
from tests.mail.intake import mail, running_intake

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def intake(people) -> IntakeAddress:
    return IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")


def test_unknown_recipient_is_refused_at_rcpt(intake):
    with (
        running_intake() as port,
        smtplib.SMTP("127.0.0.1", port) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        smtp.send_message(mail(sender="x@example.com", to="nobody@acme.test"))
    code, text = refused.value.recipients["nobody@acme.test"]
    assert code == 550
    assert b"no service desk" in text
    assert InboundMail.objects.count() == 0


def test_a_message_over_the_limit_is_refused_with_552(intake, settings):
    settings.MAIL_MAX_BYTES = 4096
    big = mail(sender="rita@acme.test", to="help@acme.test", body="x" * 10_000)
    with (
        running_intake() as port,
        smtplib.SMTP("127.0.0.1", port) as smtp,
        pytest.raises(smtplib.SMTPResponseException) as refused,
    ):
        smtp.send_message(big)
    assert refused.value.smtp_code == 552
    assert InboundMail.objects.count() == 0


def test_accepted_mail_is_stored_and_becomes_an_incident(intake, people):
    message = mail(sender="Rita <rita@acme.test>", to="help@acme.test")
    with running_intake() as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)
        smtp.send_message(message)  # a server retrying after a lost answer
    row = InboundMail.objects.get()
    assert row.status == InboundStatus.DONE, row.reason
    assert row.message_id == message["Message-ID"]
    incident = Incident.objects.get(tenant=people.acme)
    assert incident.title == "The printer is jammed"
    assert incident.reporter == people.rita
    assert (incident.impact, incident.urgency) == ("medium", "medium")
    assert "Paper stuck in tray 2." in incident.description


def test_one_message_to_two_tenants_is_one_row_each(intake, people):
    IntakeAddress.objects.create(tenant=people.globex, address="help@globex.test")
    message = mail(sender="someone@example.com", to="help@acme.test, help@globex.test")
    with running_intake() as port, smtplib.SMTP("127.0.0.1", port) as smtp:
        smtp.send_message(message)
    assert sorted(InboundMail.objects.values_list("tenant__slug", flat=True)) == ["acme", "globex"]
    assert Incident.objects.filter(
        tenant=people.globex, contact_email="someone@example.com"
    ).exists()
