"""A corpus of real-world-shaped mail (tests/mail/corpus/*.eml) and what each one must become.

Each file is written as its program sends it (headers, MIME structure, quoting style, CRLF line
endings). A reply names a mail the desk sent: the conversation it answers is made first (its
incident reported by mail, maybe an agent's public answer), and the newest desk mail to the
reader gives the {{DESK_MESSAGE_ID}}, {{DESK_REFERENCES}}, {{DESK_SUBJECT}} and {{INCIDENT}}
the file names. Some cases go through the running SMTP intake with smtplib, the rest through
`inbound_store`, as the IMAP poller does; processing runs on commit (eager in tests).
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses
from pathlib import Path

import pytest
from django.core import mail as django_mail
from django.urls import reverse

from incidents.models import Attachment, Comment, Incident
from incidents.services.comments import comment_add
from mail.models import InboundMail, InboundStatus, IntakeAddress
from mail.services.store import inbound_store, parse
from tests.factories import PASSWORD
from tests.mail.intake import mail, running_intake

pytestmark = pytest.mark.django_db(transaction=True)

CORPUS = Path(__file__).parent / "corpus"
INTAKE = "help@acme.test"
DONE, IGNORED, REFUSED = InboundStatus.DONE, InboundStatus.IGNORED, InboundStatus.REFUSED
# Nothing active may reach a page, whatever the mail held.
ACTIVE = ("<script", "onerror", "onload", "javascript:", "<iframe", "<style", "alert(")
# What every reply quotes from the desk's mail (the acknowledgement, an agent's answer).
QUOTED = ("your report reached", "> ", "wrote:", "Number:")


@dataclass(frozen=True)
class Conversation:
    """An incident a reply answers: reported by a mail from `sender` (Cc `cc`), then, with
    `agent_asks`, a public answer by Alice. The reply names the newest desk mail to `reader`
    (the sender unless said)."""

    sender: str
    subject: str
    cc: str = ""
    agent_asks: str = ""
    reader: str = ""


@dataclass(frozen=True)
class Case:
    file: str
    status: str | tuple[str, ...]
    reason: str = ""  # in the reason kept on the message
    made: str = ""  # "reported": a new incident; "commented": on the conversation's; "": nothing
    author: str = ""  # the new incident's reporter, or the comment's author
    title: str = ""
    present: tuple[str, ...] = ()  # in the description or comment
    absent: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()  # attachments kept on the incident
    refused: tuple[str, ...] = ()  # files listed as not accepted
    answers: Conversation | None = None
    via: str = "store"  # or "smtp": the running intake, spoken to with smtplib
    times: int = 1  # delivered this many times (a server retrying)


VPN = Conversation(
    sender="Carl Jensen <carl@supplier.example>", subject="VPN drops every 10 minutes"
)
PRINTER = Conversation(sender="Rita Requester <rita@acme.test>", subject="The printer is jammed")
BADGE = Conversation(
    sender="Sofia Marques <sofia.marques@icloud.com>",
    subject="Badge reader at the main entrance is dead",
)
ROOM = Conversation(
    sender="Mikkel Sørensen <mikkel@supplier.example>", subject="Meeting room 4 screen stays black"
)
VPN_WITH_CC = Conversation(
    sender="Carl Jensen <carl@supplier.example>",
    subject="VPN drops every 10 minutes",
    cc="Dana Holm <dana@supplier.example>",
    agent_asks="Could you both reconnect and tell us the time of the next drop?",
    reader="dana@supplier.example",
)
GONE = Conversation(sender="old.colleague@supplier.example", subject="Shared mailbox access")
GONE_EXCHANGE = Conversation(sender="carl.old@supplier.example", subject="Shared mailbox access")

CASES = [
    Case(
        "outlook_reply.eml",
        DONE,
        made="commented",
        author="Carl Jensen",
        answers=VPN,
        via="smtp",
        present=("It’s still dropping every 10 minutes", 'the log says "error 809".'),
        absent=(*QUOTED, "From:", "Sent:", "Subject:", "Monday, December 7", "+45 12 34 56 78"),
    ),
    Case(
        "gmail_reply.eml",
        DONE,
        made="commented",
        author="Rita Requester",
        answers=PRINTER,
        # Trimming takes the history and signature, never what the person wrote: a line that
        # starts with "Thanks," and a list of steps stay.
        present=(
            "Hi,\n\nThanks, the new paper helped for a day, but the printer on floor 2 jams\n"
            'again. It shows error 13.22 and then "Clear tray 2".',
            "What I tried:\n- opened tray 2 and removed the torn sheet\n"
            "- switched it off and on again",
        ),
        absent=(*QUOTED, "On Mon, 7 Dec 2026"),
    ),
    Case(
        "apple_mail_iphone_reply.eml",
        DONE,
        made="commented",
        author="Sofia Marques",
        answers=BADGE,
        present=("The badge reader at the main entrance works again since this morning.",),
        absent=(*QUOTED, "Sent from my iPhone", "\ufeff"),
    ),
    Case(
        "outlook_ios_reply.eml",
        DONE,
        made="commented",
        author="Mikkel Sørensen",
        answers=ROOM,
        present=("Yes, the screen in meeting room 4 works again after the restart.",),
        absent=(*QUOTED, "Get Outlook for iOS", "aka.ms", "_____", "From:", "Sent:"),
    ),
    Case(
        "thunderbird_reply_all_from_cc.eml",
        DONE,
        made="commented",
        author="Dana Holm",
        answers=VPN_WITH_CC,
        present=("Same here from the Copenhagen office", "on two different laptops."),
        absent=(*QUOTED, "Could you both reconnect"),
    ),
    Case("outlook_out_of_office.eml", IGNORED, "Auto-Submitted: auto-replied", answers=VPN),
    Case("exchange_oof_x_autoreply.eml", IGNORED, "X-Autoreply", answers=VPN),
    Case("vacation_precedence_bulk.eml", IGNORED, "Precedence: bulk", answers=VPN),
    Case("bounce_mailer_daemon.eml", IGNORED, "delivery status", answers=GONE, via="smtp"),
    Case("bounce_exchange_ndr.eml", IGNORED, "delivery status", answers=GONE_EXCHANGE),
    Case("mailing_list_mailman.eml", IGNORED, "Precedence: list"),
    Case("newsletter_list_unsubscribe.eml", IGNORED, "mailing-list mail"),
    Case(
        "html_only_active_content.eml",
        DONE,
        made="reported",
        author="Métte Larsen",
        title="Shared drive S: is read-only",
        via="smtp",
        present=(
            "Hello desk,",
            "Our shared drive S: is read-only since 08:00.\nNobody in Finance can save files.",
            "See the error screenshot",
            "Métte Larsen\nFinance",
        ),
        absent=(*ACTIVE, "color: red", "document.cookie", "evil.example"),
    ),
    Case(
        "iso_8859_1_subject_and_body.eml",
        DONE,
        made="reported",
        author="Jürg Müller",
        title="Café à Zürich: Kaffeemaschine defekt",
        via="smtp",
        present=(
            "Grüezi mitenand,",
            "Die Kaffeemaschine im Café à Zürich (3. Stock) zeigt «Entkalken» und",
            "läuft seit heute Morgen nicht mehr.",
        ),
        absent=("Ã", "\ufffd"),
    ),
    Case(
        "utf8_base64_subject_emoji_cjk.eml",
        DONE,
        made="reported",
        author="王芳",
        title="🔥 服务器宕机 — サーバーが落ちた (db-03)",
        present=(
            "数据库服务器 db-03 从 09:12 起无法访问。",
            "データベースに接続できません。",
            "🔥 Production is down for the Shanghai office.",
        ),
        absent=("\ufffd", "=?UTF-8?"),
    ),
    Case(
        "outlook_inline_image_and_pdf.eml",
        DONE,
        made="reported",
        author="Rita Requester",
        title="VPN error 809 when connecting from home",
        present=("the VPN client refuses to connect from home with error 809",),
        absent=("Files not accepted",),
        accepted=("image001.png", "vpn-client-log.pdf"),
    ),
    Case(
        "exe_attachment.eml",
        DONE,
        made="reported",
        author="Tom Baker",
        title="Installer for the new label printer",
        present=("the label printer there prints blank labels.", "Files not accepted"),
        refused=("LabelPrinterDriver-setup.exe",),
    ),
    # Broken boundary, a missing header/body separator, a lying charset and encoding: kept and
    # refused with a reason, or made into an incident; never a crash (failed) nor left waiting.
    Case("malformed_mime.eml", REFUSED, "MIME structure is broken"),
    Case("missing_from.eml", REFUSED, "no sender"),
    Case(
        "no_message_id.eml",
        DONE,
        made="reported",
        author="Backup job",
        title="Nightly backup of fileserver FS02 failed",
        present=("the target volume is full",),
        via="smtp",
        times=2,
    ),
]


@pytest.fixture
def intake(people) -> IntakeAddress:
    return IntakeAddress.objects.create(tenant=people.acme, address=INTAKE)


def store(intake: IntakeAddress, raw: bytes) -> None:
    inbound_store(raw=raw, intake=intake, via="smtp")


def send(raw: bytes, *, port: int) -> None:
    """What a sending server does: the envelope sender from From (null for a robot's mail)."""
    message = parse(raw)
    pairs = getaddresses([str(message.get("From", ""))])
    sender = pairs[0][1] if pairs and "mailer-daemon" not in pairs[0][1].lower() else ""
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        refused = smtp.sendmail(sender, [INTAKE], raw)
    assert refused == {}


def start_conversation(intake: IntakeAddress, people, conversation: Conversation) -> Incident:
    first = mail(
        sender=conversation.sender,
        to=INTAKE,
        cc=conversation.cc,
        subject=conversation.subject,
        body="Since this morning it does not work.",
    )
    store(intake, first.as_bytes())
    row = InboundMail.objects.get(message_id=first["Message-ID"])
    assert row.status == DONE, row.reason
    assert row.incident is not None
    if conversation.agent_asks:
        comment_add(
            incident=row.incident,
            actor=people.actor(people.alice),
            body=conversation.agent_asks,
            public=True,
        )
    return row.incident


def desk_mail_to(address: str):
    sent = [m for m in django_mail.outbox if address in m.to]
    assert sent, f"the desk sent nothing to {address}"
    return sent[-1]


def with_desk_mail(raw: bytes, desk, incident: Incident) -> bytes:
    """The file's placeholders replaced by what the desk's mail said."""
    values = {
        "{{DESK_MESSAGE_ID}}": desk.extra_headers["Message-ID"],
        "{{DESK_REFERENCES}}": desk.extra_headers["References"],
        "{{DESK_SUBJECT}}": desk.subject,
        "{{INCIDENT}}": incident.reference,
    }
    for placeholder, value in values.items():
        raw = raw.replace(placeholder.encode(), value.encode())
    assert b"{{" not in raw
    return raw


def address_of(sender: str) -> str:
    return getaddresses([sender])[0][1]


@pytest.mark.parametrize("case", CASES, ids=[c.file.removesuffix(".eml") for c in CASES])
def test_corpus(case: Case, intake, people):
    raw = (CORPUS / case.file).read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b""), "CRLF, as on the wire"
    incident = None
    if case.answers is not None:
        incident = start_conversation(intake, people, case.answers)
        reader = case.answers.reader or address_of(case.answers.sender)
        raw = with_desk_mail(raw, desk_mail_to(reader), incident)
    rows, incidents = InboundMail.objects.count(), Incident.objects.count()
    comments, sent = Comment.objects.count(), len(django_mail.outbox)

    if case.via == "smtp":
        with running_intake() as port:
            for _ in range(case.times):
                send(raw, port=port)
    else:
        for _ in range(case.times):
            store(intake, raw)

    # Stored once, byte for byte, and processed to an end: never failed nor left waiting.
    assert InboundMail.objects.count() == rows + 1
    row = InboundMail.objects.latest("pk")
    assert bytes(row.raw) == raw
    statuses = case.status if isinstance(case.status, tuple) else (case.status,)
    assert row.status in statuses, f"{row.status}: {row.reason}"
    assert case.reason in row.reason
    if row.status != DONE:
        assert row.reason, "an ignored or refused message says why"

    if case.made == "reported":
        new = row.incident
        assert new is not None and new != incident
        assert Incident.objects.count() == incidents + 1
        assert Comment.objects.count() == comments
        assert (new.reporter.full_name if new.reporter else new.contact_name) == case.author
        assert new.title == case.title
        text = new.description
        files = Attachment.objects.filter(incident=new)
    elif case.made == "commented":
        assert row.incident == incident, "the reply landed on its conversation"
        assert Incident.objects.count() == incidents
        (comment,) = Comment.objects.filter(incident=incident, author_name=case.author)
        assert comment.public
        text = comment.body
        files = Attachment.objects.filter(comment=comment)
    elif row.status == DONE:  # malformed: processed as well as it could be
        assert row.incident is not None
        text, files = row.incident.description, Attachment.objects.none()
    else:
        # Loops and junk: no incident, no comment, and no answer to anyone.
        assert row.incident is None
        assert Incident.objects.count() == incidents
        assert Comment.objects.count() == comments
        assert len(django_mail.outbox) == sent
        return

    for wanted in case.present:
        assert wanted in text
    for unwanted in (*case.absent, *ACTIVE):
        assert unwanted not in text, f"{unwanted!r} in {text!r}"
    assert sorted(files.values_list("name", flat=True)) == sorted(case.accepted)
    if case.refused:
        listed = text.partition("Files not accepted from this mail:")[2]
        for name in case.refused:
            assert name in listed, f"{name} not listed as refused in {text!r}"


def test_a_20_mb_attachment_is_accepted_by_smtp_and_listed_as_refused(intake, people, settings):
    """The mail fits MAIL_MAX_BYTES (35 MB); its 20 MB file does not fit ATTACHMENT_MAX_BYTES
    (10 MB): the incident is made, and the file is named on it, not dropped in silence."""
    assert settings.MAIL_MAX_BYTES == 35 * 1024 * 1024
    assert settings.ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024
    message = EmailMessage(policy=SMTP)
    message["From"] = "Rita Requester <rita@acme.test>"
    message["To"] = INTAKE
    message["Subject"] = "Server logs from last night's outage"
    message["Message-ID"] = "<big.20261207@acme.test>"
    message.set_content("Here are the server logs you asked for.\n\nRita\n")
    big = bytes(range(256)) * (20 * 1024 * 1024 // 256)
    message.add_attachment(big, maintype="application", subtype="zip", filename="server-logs.zip")
    message.add_attachment(
        b"time,event\n02:58,disk full\n", maintype="text", subtype="csv", filename="events.csv"
    )
    raw = message.as_bytes()
    assert 20 * 1024 * 1024 < len(raw) < settings.MAIL_MAX_BYTES

    with running_intake() as port:
        send(raw, port=port)

    row = InboundMail.objects.get()
    assert row.size == len(raw)
    assert row.status == DONE, row.reason
    incident = row.incident
    assert incident.reporter == people.rita
    assert "Here are the server logs you asked for." in incident.description
    listed = incident.description.partition("Files not accepted from this mail:")[2]
    # filesizeformat keeps a number and its unit together with a no-break space
    assert "server-logs.zip is 20.0 MB; files are limited to 10.0 MB." in listed.replace(
        "\xa0", " "
    )
    assert list(Attachment.objects.filter(incident=incident).values_list("name", flat=True)) == [
        "events.csv"
    ]


def test_html_mail_puts_nothing_active_on_the_desk_page(intake, people, client):
    store(intake, (CORPUS / "html_only_active_content.eml").read_bytes())
    row = InboundMail.objects.get()
    assert row.status == DONE, row.reason
    assert client.login(email=people.alice.email, password=PASSWORD)
    page = client.get(
        reverse(
            "desk-incident-detail",
            kwargs={"tenant_slug": "acme", "number": row.incident.number},
        )
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "Our shared drive S: is read-only since 08:00." in html
    for unwanted in ("onerror", "alert(", "javascript:alert", "evil.example", "document.cookie"):
        assert unwanted not in html
