"""The outbox: enqueue with the cause, deliver at least once, never lose a row."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.channels import TransportError, transport_for
from escalation.models import Notification, NotificationStatus

if TYPE_CHECKING:
    from incidents.models import Incident
    from tenancy.models import Tenant, User

log = logging.getLogger(__name__)
Status = NotificationStatus


def notification_enqueue(
    *,
    tenant: Tenant,
    kind: str,
    address: str,
    subject: str,
    body: str,
    incident: Incident | None = None,
    recipient: User | None = None,
    channel: str = "email",
) -> Notification:
    """Write the row in the caller's transaction; delivery is triggered once it commits."""
    notification = Notification.objects.create(
        tenant=tenant,
        incident=incident,
        recipient=recipient,
        channel=channel,
        kind=kind,
        address=address,
        subject=subject[:300],
        body=body,
        max_attempts=settings.NOTIFICATION_MAX_ATTEMPTS,
    )
    from escalation.tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.delay(notification.pk))
    return notification


def _claim(notification_id: int) -> bool:
    """Only one worker sends a row at a time: a conditional update is the claim."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - _stale_claim_age()),
        id=notification_id,
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return claimed == 1


def _stale_claim_age() -> timedelta:
    # A claim older than the task's hard time limit belongs to a worker that died mid-send.
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.NOTIFICATION_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0)))


def notification_deliver(*, notification_id: int) -> str:
    """Send one row. Returns its status afterwards ('skipped' when another run holds it)."""
    if not _claim(notification_id):
        return "skipped"
    notification = Notification.objects.get(id=notification_id)
    try:
        transport_for(notification.channel).notify(notification)
    except TransportError as exc:
        return _record_failure(notification, exc)
    Notification.objects.filter(id=notification_id, status=Status.SENDING).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return Status.SENT


def _record_failure(notification: Notification, exc: TransportError) -> str:
    dead = exc.permanent or notification.attempts >= notification.max_attempts
    status = Status.DEAD if dead else Status.PENDING
    Notification.objects.filter(id=notification.id, status=Status.SENDING).update(
        status=status,
        last_error=exc.message[:2000],
        next_attempt_at=timezone.now() + _backoff(notification.attempts),
        claimed_at=None,
    )
    log.warning("notification %s failed (attempt %s): %s", notification.id, notification.attempts,
                exc.message)
    return status


def notifications_due(*, limit: int = 500) -> list[int]:
    """Rows a relay should trigger again: pending and due, or claimed by a worker now gone."""
    now = timezone.now()
    relay_after = timedelta(seconds=settings.NOTIFICATION_RELAY_AFTER_SECONDS)
    due = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now - relay_after)
        | Q(status=Status.PENDING, attempts__gt=0, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - _stale_claim_age())
    ).order_by("next_attempt_at")
    return list(due.values_list("id", flat=True)[:limit])


def notification_retry(*, notification: Notification) -> Notification:
    """A person asks to try a dead row again: it gets a fresh set of attempts."""
    Notification.objects.filter(id=notification.id, status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    from escalation.tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.delay(notification.id))
    notification.refresh_from_db()
    return notification
