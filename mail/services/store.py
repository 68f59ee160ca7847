"""Store first, process later: a message is ours once its raw bytes are in the database.

The SMTP intake answers 250 only after `inbound_store` committed, and IMAP polling marks a
message taken only after it; processing is a Celery task triggered on commit, and a relay
triggers again what waits too long (a trigger lost with the broker), so nothing is lost. A
message delivered twice (a retrying server, a mailbox polled again) finds its row and changes
nothing.
"""

from __future__ import annotations

import hashlib
import logging
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat

from mail.models import InboundMail, InboundStatus, IntakeAddress

log = logging.getLogger(__name__)


def intake_for(address: str) -> IntakeAddress | None:
    """The active intake address a recipient names, whatever the case of its letters."""
    return (
        IntakeAddress.objects.select_related("tenant")
        # addresses are stored in lower case (mail.services.admin), so the unique index serves
        .filter(address=(address or "").strip().lower(), is_active=True, tenant__is_active=True)
        .first()
    )


def parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header(message: EmailMessage, name: str) -> str:
    """A header as text; a malformed one reads as empty rather than failing the message."""
    try:
        value = message.get(name)
    except Exception:  # the email package raises many kinds on broken headers
        return ""
    # NUL is legal in an encoded word but not in a PostgreSQL text column
    return " ".join(str(value).replace("\x00", "").split()) if value is not None else ""


def message_key(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or one made from the bytes: the same mail redelivered has the same key."""
    key = header(message, "Message-ID")
    if key:
        return key[:998]
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def sender_of(message: EmailMessage) -> str:
    pairs = getaddresses([header(message, "From")])
    return pairs[0][1].lower() if pairs and "@" in pairs[0][1] else ""


def inbound_store(*, raw: bytes, intake: IntakeAddress, via: str) -> tuple[InboundMail, bool]:
    """Keep one message for one intake address; (row, created). Processing is triggered once
    the row commits."""
    message = parse(raw)
    key = message_key(message, raw)
    existing = InboundMail.objects.for_tenant(intake.tenant_id).filter(
        intake=intake, message_id=key
    )
    found = existing.first()
    if found is not None:
        return found, False
    if len(raw) > settings.MAIL_MAX_BYTES:  # only a mailbox hands us these; SMTP says 552
        return _keep_refused_too_large(raw, message, key, intake, via), True
    try:
        with transaction.atomic():
            row = InboundMail.objects.create(
                tenant_id=intake.tenant_id,
                intake=intake,
                message_id=key,
                raw=raw,
                size=len(raw),
                via=via,
                sender=sender_of(message)[:254],
                subject=header(message, "Subject")[:300],
            )
            trigger_on_commit(row.pk)
    except IntegrityError:  # the same message stored by a concurrent delivery
        return existing.get(), False
    return row, True


def _keep_refused_too_large(
    raw: bytes, message: EmailMessage, key: str, intake: IntakeAddress, via: str
) -> InboundMail:
    """Kept for the admin to see, with its headers only: the desk will not process it."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:65536]
    limit = filesizeformat(settings.MAIL_MAX_BYTES)
    return InboundMail.objects.create(
        tenant_id=intake.tenant_id,
        intake=intake,
        message_id=key,
        raw=head,
        size=len(raw),
        via=via,
        sender=sender_of(message)[:254],
        subject=header(message, "Subject")[:300],
        status=InboundStatus.REFUSED,
        reason=f"The message is {filesizeformat(len(raw))}; the desk takes mail up to {limit} "
        "(MAIL_MAX_BYTES). Only its headers are kept.",
    )


def inbound_store_for_recipients(*, raw: bytes, recipients: list[str], via: str) -> int:
    """The SMTP intake's DATA: one row per intake address the message was sent to."""
    stored = 0
    for intake in {i.pk: i for r in recipients if (i := intake_for(r)) is not None}.values():
        stored += inbound_store(raw=raw, intake=intake, via=via)[1]
    return stored


def trigger_on_commit(inbound_id: int) -> None:
    # robust: a broker that is down must not undo the stored message; the relay triggers it.
    from mail.tasks import process_inbound

    def trigger() -> None:
        # One quick reconnection at most: kombu's default retries sleep 0.6 s per message in
        # the intake's one database thread while the broker is down; the relay covers a miss.
        process_inbound.apply_async((inbound_id,), retry_policy={"max_retries": 1})

    transaction.on_commit(trigger, robust=True)
