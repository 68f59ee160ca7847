"""Polling a mailbox over IMAP, against a real Dovecot (tests/mail/dovecot.py): what is in the
mailbox is stored once, marked taken on the server only after it is stored, and whatever goes
wrong is said on the intake address without losing a message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incidents.models import Incident
from mail.models import ImapSecurity, InboundMail, InboundStatus, IntakeAddress
from mail.services.imap import TAKEN, TOO_LARGE, intake_poll
from mail.services.store import inbound_store
from mail.tasks import poll_mailboxes
from tests.mail.dovecot import Dovecot, Mailbox, free_port, running_dovecot
from tests.mail.intake import mail

pytestmark = pytest.mark.django_db
SEEN = "\\Seen"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    return dovecot.add_user()


@pytest.fixture
def intake(people, dovecot, mailbox, settings) -> IntakeAddress:
    settings.MAIL_IMAP_CA_FILE = dovecot.ca_file  # the throwaway CA that signed Dovecot's cert
    return IntakeAddress.objects.create(
        tenant=people.acme,
        address="help@acme.test",
        imap_enabled=True,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_security=ImapSecurity.SSL,
        imap_username=mailbox.user,
        imap_password=mailbox.password,
    )


def polled(intake: IntakeAddress) -> int:
    stored = intake_poll(intake=intake)
    intake.refresh_from_db()
    return stored


def stored_ids(intake: IntakeAddress) -> set[str]:
    return set(InboundMail.objects.filter(intake=intake).values_list("message_id", flat=True))


def reports(n: int, sender: str = "rita@acme.test") -> list:
    return [mail(sender=sender, to="help@acme.test", subject=f"Report {i}") for i in range(n)]


def test_mails_in_the_mailbox_are_stored_once_each_and_marked_taken(intake, mailbox):
    messages = reports(3)
    mailbox.deliver(*messages)

    assert polled(intake) == 3
    ids = {m["Message-ID"] for m in messages}
    assert stored_ids(intake) == ids
    rows = InboundMail.objects.filter(intake=intake)
    assert {r.via for r in rows} == {"imap"}
    assert {r.subject for r in rows} == {"Report 0", "Report 1", "Report 2"}
    assert all(b"Report" in bytes(r.raw) for r in rows)
    assert mailbox.flags() == {i: {SEEN, TAKEN} for i in ids}
    assert intake.imap_last_error == ""
    assert intake.imap_last_polled_at is not None

    first_poll = intake.imap_last_polled_at
    assert polled(intake) == 0
    assert InboundMail.objects.filter(intake=intake).count() == 3
    assert intake.imap_last_polled_at > first_poll


def test_a_mail_someone_already_read_in_the_mailbox_is_still_taken(intake, mailbox):
    read, unread = reports(2)
    mailbox.deliver(read, flags=SEEN)
    mailbox.deliver(unread)

    assert polled(intake) == 2
    assert stored_ids(intake) == {read["Message-ID"], unread["Message-ID"]}
    assert all(TAKEN in flags for flags in mailbox.flags().values())


def test_a_crash_between_store_and_mark_stores_nothing_new(intake, mailbox):
    before, during = reports(2)
    mailbox.deliver(before)
    assert polled(intake) == 1
    row = InboundMail.objects.get(intake=intake)
    # A poll that stored a message and died before marking it: the mark is missing on the
    # server, the message is in the database.
    mailbox.store(before["Message-ID"], "-FLAGS", f"{SEEN} {TAKEN}")
    mailbox.deliver(during)
    inbound_store(raw=during.as_bytes(), intake=intake, via="imap")
    assert mailbox.flags()[before["Message-ID"]] == set()

    assert polled(intake) == 0
    assert InboundMail.objects.filter(intake=intake).count() == 2
    assert InboundMail.objects.get(intake=intake, message_id=before["Message-ID"]).pk == row.pk
    assert mailbox.flags() == {
        before["Message-ID"]: {SEEN, TAKEN},
        during["Message-ID"]: {SEEN, TAKEN},
    }


def test_a_wrong_password_says_login_refused_and_loses_nothing(intake, mailbox):
    (message,) = reports(1)
    mailbox.deliver(message)
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_password="not-the-password")
    intake.refresh_from_db()

    assert polled(intake) == 0
    assert intake.imap_last_error.startswith(f"Login refused for {mailbox.user}")
    assert "Authentication failed" in intake.imap_last_error  # Dovecot's own words
    assert InboundMail.objects.count() == 0
    assert mailbox.flags() == {message["Message-ID"]: set()}

    IntakeAddress.objects.filter(pk=intake.pk).update(imap_password=mailbox.password)
    intake.refresh_from_db()
    assert polled(intake) == 1
    assert intake.imap_last_error == ""
    assert stored_ids(intake) == {message["Message-ID"]}


def test_a_poll_with_settings_replaced_meanwhile_records_nothing(intake, mailbox):
    # The poll started with a wrong password; the admin saved the right one while it ran.
    stale = IntakeAddress.objects.get(pk=intake.pk)
    stale.imap_password = "not-the-password"

    assert intake_poll(intake=stale) == 0
    assert stale.imap_last_error.startswith("Login refused")
    intake.refresh_from_db()
    assert intake.imap_last_error == ""
    assert intake.imap_last_polled_at is None


def test_starttls_on_the_plain_port_works(intake, mailbox, dovecot):
    IntakeAddress.objects.filter(pk=intake.pk).update(
        imap_security=ImapSecurity.STARTTLS, imap_port=dovecot.imap_port
    )
    intake.refresh_from_db()
    (message,) = reports(1)
    mailbox.deliver(message)

    assert polled(intake) == 1
    assert intake.imap_last_error == ""
    assert mailbox.flags() == {message["Message-ID"]: {SEEN, TAKEN}}


@pytest.mark.parametrize("security", [ImapSecurity.SSL, ImapSecurity.STARTTLS])
def test_a_certificate_nobody_vouches_for_is_refused(intake, mailbox, dovecot, settings, security):
    settings.MAIL_IMAP_CA_FILE = ""  # the system's CAs only: they never signed the throwaway CA
    port = dovecot.imaps_port if security == ImapSecurity.SSL else dovecot.imap_port
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_security=security, imap_port=port)
    intake.refresh_from_db()
    (message,) = reports(1)
    mailbox.deliver(message)

    assert polled(intake) == 0
    assert intake.imap_last_error.startswith(
        f"TLS failure: the certificate of {dovecot.host}:{port} is not trusted"
    )
    assert InboundMail.objects.count() == 0
    assert mailbox.flags() == {message["Message-ID"]: set()}


def test_a_folder_that_does_not_exist_is_named(intake, mailbox):
    mailbox.deliver(*reports(1))
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_folder="Tickets")
    intake.refresh_from_db()

    assert polled(intake) == 0
    assert intake.imap_last_error.startswith('Folder missing: "Tickets" cannot be opened')
    assert InboundMail.objects.count() == 0


def test_a_folder_with_an_accented_name_is_polled(intake, mailbox):
    mailbox.create_folder("Störungen")
    (message,) = reports(1)
    mailbox.deliver(message, folder="Störungen")
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_folder="Störungen")
    intake.refresh_from_db()

    assert polled(intake) == 1, intake.imap_last_error
    assert mailbox.flags("Störungen") == {message["Message-ID"]: {SEEN, TAKEN}}


def test_nothing_listening_says_host_unreachable(intake):
    port = free_port()
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_port=port)
    intake.refresh_from_db()

    assert polled(intake) == 0
    assert intake.imap_last_error == (
        f"Host unreachable: 127.0.0.1:{port} refused the connection (nothing listens there)."
    )


def test_tls_from_the_start_on_the_starttls_port_says_so(intake, dovecot):
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_port=dovecot.imap_port)
    intake.refresh_from_db()

    assert polled(intake) == 0
    assert intake.imap_last_error.startswith(f"TLS failure with 127.0.0.1:{dovecot.imap_port}")
    assert "Is this the STARTTLS port" in intake.imap_last_error


def test_one_poll_takes_a_bounded_number_oldest_first(intake, mailbox, settings):
    settings.MAIL_IMAP_MAX_PER_POLL = 12  # more than one FETCH batch of 10
    messages = reports(25)
    mailbox.deliver(*messages)
    ids = [m["Message-ID"] for m in messages]

    assert polled(intake) == 12
    assert stored_ids(intake) == set(ids[:12])
    assert polled(intake) == 12
    assert polled(intake) == 1
    assert polled(intake) == 0
    assert stored_ids(intake) == set(ids)
    assert all(flags == {SEEN, TAKEN} for flags in mailbox.flags().values())


def test_a_message_over_the_size_limit_is_left_in_the_mailbox_and_said(intake, mailbox, settings):
    settings.MAIL_MAX_BYTES = 5000
    small = mail(sender="rita@acme.test", to="help@acme.test", subject="Small")
    large = mail(sender="rita@acme.test", to="help@acme.test", subject="Large", body="x" * 9000)
    mailbox.deliver(small, large)

    assert polled(intake) == 1
    assert stored_ids(intake) == {small["Message-ID"]}
    assert mailbox.flags() == {
        small["Message-ID"]: {SEEN, TAKEN},
        large["Message-ID"]: {TOO_LARGE},  # unread, for a person to deal with
    }
    assert "1 message(s) larger than 5000 bytes were left in the mailbox" in (
        intake.imap_last_error
    )
    assert polled(intake) == 0  # not fetched again and again
    assert intake.imap_last_error == ""


@pytest.mark.django_db(transaction=True)
def test_beat_polls_every_mailbox_and_a_polled_mail_becomes_an_incident(
    intake, mailbox, dovecot, people
):
    # Another desk's mailbox is broken: it says so, and acme's mail still comes in.
    broken = IntakeAddress.objects.create(
        tenant=people.globex,
        address="help@globex.test",
        imap_enabled=True,
        imap_host=dovecot.host,
        imap_port=dovecot.imaps_port,
        imap_username=mailbox.user,
        imap_password="wrong",
    )
    message = mail(
        sender="Rita Requester <rita@acme.test>",
        to="help@acme.test",
        subject="The VPN drops every ten minutes",
        body="Since this morning, on the office network only.",
    )
    mailbox.deliver(message)

    assert poll_mailboxes() == 2  # one poll per mailbox (run inline: tasks are eager here)

    row = InboundMail.objects.get(intake=intake)
    assert row.status == InboundStatus.DONE, row.reason
    incident = Incident.objects.get(tenant=people.acme)
    assert row.incident_id == incident.pk
    assert incident.title == "The VPN drops every ten minutes"
    assert incident.reporter == people.rita
    assert "Since this morning, on the office network only." in incident.description
    assert mailbox.flags() == {message["Message-ID"]: {SEEN, TAKEN}}
    broken.refresh_from_db()
    assert broken.imap_last_error.startswith("Login refused")
    assert not InboundMail.objects.filter(intake=broken).exists()
