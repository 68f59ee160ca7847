"""Celery triggers for received mail. The stored rows are the truth; a lost or repeated trigger
is harmless (the relay finds what waits; processing skips what is done)."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from mail.services.imap import intake_poll, polled_intake, polled_intake_ids
from mail.services.process import inbound_process
from mail.services.relay import inbound_waiting

DB_RETRY = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 8,
}
log = logging.getLogger(__name__)


@shared_task(name="mail.process_inbound", **DB_RETRY)
def process_inbound(inbound_id: int) -> str:
    return inbound_process(inbound_id=inbound_id)


@shared_task(name="mail.relay_inbound", **DB_RETRY)
def relay_inbound() -> int:
    ids = inbound_waiting()
    expires = 2 * settings.MAIL_RELAY_INTERVAL_SECONDS
    for inbound_id in ids:
        process_inbound.apply_async((inbound_id,), expires=expires)
    return len(ids)


@shared_task(name="mail.poll_mailboxes")
def poll_mailboxes() -> int:
    """Beat's trigger: one task per polled mailbox, so a slow or broken one delays no other and
    workers poll several at once. A trigger left waiting past the next beat expires."""
    ids = polled_intake_ids()
    for intake_id in ids:
        poll_mailbox.apply_async((intake_id,), expires=settings.MAIL_IMAP_POLL_SECONDS)
    return len(ids)


@shared_task(name="mail.poll_mailbox")
def poll_mailbox(intake_id: int) -> int:
    intake = polled_intake(intake_id)
    if intake is None:
        return 0
    try:
        return intake_poll(intake=intake)
    except Exception:  # the database away, most likely: the next beat polls again
        log.exception("IMAP poll of %s failed", intake.address)
        return 0
