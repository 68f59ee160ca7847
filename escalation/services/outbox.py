"""The outbox: enqueue with the cause, deliver at least once, never lose a row.

A row moves pending -> sending -> sent, or back to pending with a later next_attempt_at after a
temporary failure, or to dead after a permanent failure or its last attempt. The claim that moves
it to sending is a conditional update, so two workers never send the same row at once; a claim
left by a worker that died mid-send goes stale and the relay triggers the row again.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.channels import TransportError, transport_for
from escalation.models import Notification, NotificationStatus

if TYPE_CHECKING:
    from escalation.models import WebhookEndpoint
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
    link: str = "",
    endpoint: WebhookEndpoint | None = None,
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
        link=link,
        endpoint=endpoint,
    )
    _trigger_on_commit(notification.pk)
    return notification


def _trigger_on_commit(notification_id: int) -> None:
    # robust: a broker that is down must not turn the committed cause (a reported incident)
    # into an error page; the row is in the outbox and the relay triggers it later.
    from escalation.tasks import deliver_notification

    def trigger_delivery() -> None:
        deliver_notification.delay(notification_id)

    transaction.on_commit(trigger_delivery, robust=True)


def _stale_claim_age() -> timedelta:
    # A claim older than the task's hard time limit belongs to a worker that died mid-send; the
    # grace covers clocks that differ between worker hosts.
    grace = settings.NOTIFICATION_CLAIM_GRACE_SECONDS
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + grace)


def _claim(notification_id: int) -> datetime | None:
    """Take the row for one attempt; the returned time is the claim's token, None if not ours."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - _stale_claim_age()),
        id=notification_id,
        attempts__lt=F("max_attempts"),
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return now if claimed == 1 else None


def _backoff(attempts: int) -> timedelta:
    seconds = settings.NOTIFICATION_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.NOTIFICATION_BACKOFF_MAX_SECONDS))


def notification_deliver(*, notification_id: int) -> str:
    """Send one row. Returns its status afterwards ('skipped' when it is not ours to send)."""
    claim = _claim(notification_id)
    if claim is None:
        return "skipped"
    notification = Notification.objects.filter(id=notification_id).first()
    if notification is None:  # deleted with its incident since the claim
        return "gone"
    try:
        transport_for(notification.channel).notify(notification)
    except TransportError as exc:
        return _record_failure(notification, claim, exc.message, permanent=exc.permanent)
    except DatabaseError:
        raise  # the task retries; the claim goes stale and the relay sends the row again
    except Exception as exc:
        # A transport's own bug or a time limit must not leave the row claimed until stale.
        log.exception(
            "notification %s: unexpected error in the %s channel",
            notification.id,
            notification.channel,
        )
        return _record_failure(notification, claim, f"unexpected error: {exc!r}")
    _mark_sent(notification_id, claim)
    return Status.SENT


def _mark_sent(notification_id: int, claim: datetime) -> None:
    """Record that the receiver has the row. The database may be away just now (a restart, a
    failover): giving up would leave the claim to go stale and the relay would send the row a
    second time, so keep trying until the task's soft time limit. Only the holder of this claim
    marks the row sent, so it is marked sent once."""
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT - (timezone.now() - claim).total_seconds()
    deadline, pause = time.monotonic() + budget, 0.2
    while True:
        try:
            Notification.objects.filter(
                id=notification_id, status=Status.SENDING, claimed_at=claim
            ).update(status=Status.SENT, sent_at=timezone.now(), last_error="")
            return
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise  # the claim goes stale; the receiver can drop the repeat by its id
            log.warning("notification %s sent; the database is away, retrying", notification_id)
            connection.close()  # the next query opens a fresh connection
            time.sleep(pause)
            pause = min(2 * pause, 1.0)


def _record_failure(
    notification: Notification, claim: datetime, message: str, *, permanent: bool = False
) -> str:
    dead = permanent or notification.attempts >= notification.max_attempts
    status = Status.DEAD if dead else Status.PENDING
    Notification.objects.filter(id=notification.id, status=Status.SENDING, claimed_at=claim).update(
        status=status,
        last_error=message[:2000],
        next_attempt_at=timezone.now() + _backoff(notification.attempts),
        claimed_at=None,
    )
    log.warning(
        "notification %s %s after attempt %s of %s: %s",
        notification.id,
        "failed for good" if dead else "will be retried",
        notification.attempts,
        notification.max_attempts,
        message,
    )
    return status


def notifications_due(*, limit: int = 500) -> list[int]:
    """Rows a relay should trigger again: pending and due, or claimed by a worker now gone."""
    now = timezone.now()
    relay_after = timedelta(seconds=settings.NOTIFICATION_RELAY_AFTER_SECONDS)
    due = Notification.objects.filter(
        # a first trigger lost on the way (broker down at commit, message lost in a crash)
        Q(status=Status.PENDING, next_attempt_at__lte=now - relay_after)
        # a retry whose backoff has run out
        | Q(status=Status.PENDING, attempts__gt=0, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=now - _stale_claim_age())
    ).filter(attempts__lt=F("max_attempts"))
    return list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])


def notifications_bury_abandoned() -> int:
    """A worker died during a row's last attempt: nobody may try again, so the row is dead."""
    stale = timezone.now() - _stale_claim_age()
    return Notification.objects.filter(
        status=Status.SENDING, claimed_at__lt=stale, attempts__gte=F("max_attempts")
    ).update(status=Status.DEAD, last_error="The worker stopped during the last attempt.")


def notification_retry(
    *, notification: Notification, statuses: tuple[str, ...] = (Status.DEAD,)
) -> Notification:
    """A person asks to try a dead row (or, to redeliver, a sent one) again: it gets a fresh set
    of attempts. A row in one of no `statuses` is left as it is."""
    rows = Notification.objects.for_tenant(notification.tenant_id)
    rows.filter(id=notification.id, status__in=statuses).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    _trigger_on_commit(notification.id)
    notification.refresh_from_db()
    return notification
