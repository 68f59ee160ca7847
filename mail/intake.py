"""The SMTP intake: aiosmtpd on MAIL_INTAKE_HOST:MAIL_INTAKE_PORT (127.0.0.1:2525).

RCPT for an address no tenant owns is refused with 550; a message past MAIL_MAX_BYTES with 552
(aiosmtpd's data size limit, also announced in EHLO's SIZE). DATA is answered 250 only once the
message is stored (mail.services.store); a database that is away gets 451, so the sending server
keeps the message and tries again: nothing is lost between them and us.
"""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from mail.services.store import inbound_store_for_recipients, intake_for

log = logging.getLogger(__name__)


def _known(address: str) -> bool:
    close_old_connections()  # a connection the database dropped since the last message
    return intake_for(address) is not None


def _store(raw: bytes, recipients: list[str]) -> int:
    close_old_connections()
    return inbound_store_for_recipients(raw=raw, recipients=recipients, via="smtp")


class IntakeHandler:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list
    ) -> str:
        try:
            known = await sync_to_async(_known, thread_sensitive=True)(address)
        except DatabaseError:
            return "451 4.3.0 The desk cannot take mail just now; try again later"
        if not known:
            return f"550 5.1.1 <{address}>: no service desk receives mail at this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            stored = await sync_to_async(_store, thread_sensitive=True)(raw, envelope.rcpt_tos)
        except Exception:
            # 451, whatever the cause: the sending server keeps the message and tries again,
            # where a 5xx would bounce it and lose it for the desk.
            log.exception("mail intake: could not store a message")
            return "451 4.3.0 The desk cannot store mail just now; try again later"
        log.info("mail intake: %s bytes for %s (%s new)", len(raw), envelope.rcpt_tos, stored)
        return "250 2.0.0 Message accepted"


def intake_controller(host: str | None = None, port: int | None = None) -> Controller:
    return Controller(
        IntakeHandler(),
        hostname=host or settings.MAIL_INTAKE_HOST,
        port=port or settings.MAIL_INTAKE_PORT,
        data_size_limit=settings.MAIL_MAX_BYTES,
        ident="Service desk mail intake",
        # the raw bytes are what we store; no decoding of the data into str on the way
        decode_data=False,
    )
