"""The outbox: enqueue with the cause, deliver at least once, never lose a row.

A row moves pending -> sending -> sent, or back to pending with a later next_attempt_at after a
temporary failure, or to dead after a permanent failure or its last attempt. The claim that moves
it to sending is a conditional update, so two workers never send the same row at once; a claim
left by a worker that died mid-send goes stale and the relay triggers the row again.

Limits that keep one receiver, or the relay itself, from holding up everyone's alerts
(docs/operations.md):
- Every attempt ends within its channel's deadline (channels/deadline.py), so a claim older than
  the longest deadline plus the time a sender keeps recording the send while the database is
  away (`claim_lifetime`), plus a grace for clocks that differ between hosts, is a dead
  worker's: stale. Celery's time limits are a backstop only.
- An endpoint has at most WEBHOOK_ENDPOINT_CONCURRENCY deliveries in flight. A trigger for one
  more of its rows leaves the row pending ("busy"); each delivery to the endpoint that ends
  takes the endpoint's next due row itself (`_drain_endpoint`), so its rows still go out one
  after another while the other workers serve everyone else.
- An attempt that ran into a timeout or the deadline backs its endpoint off (doubling from
  WEBHOOK_ENDPOINT_BACKOFF_SECONDS): its rows wait ("deferred") without spending attempts, and
  the relay leaves them alone until the backoff is over.
- The relay triggers only rows it has not triggered within NOTIFICATION_RELAY_AFTER_SECONDS
  (`triggered_at`; a claim clears it), only once the delivery queue has drained, and no more
  than fit under NOTIFICATION_RELAY_MAX_QUEUED waiting messages (escalation/tasks.py): it
  cannot feed itself, and a backlog drains at the workers' speed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.channels import TransportError, transport_for
from escalation.models import (
    Channel,
    EndpointHealth,
    Notification,
    NotificationStatus,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from incidents.models import Incident
    from tenancy.models import Tenant, User

log = logging.getLogger(__name__)
Status = NotificationStatus
# What notification_deliver returns besides a row's status: not ours to send (another worker
# has it, or it is done); its endpoint has its fill of deliveries in flight; its endpoint is
# backing off.
SKIPPED, BUSY, DEFERRED = "skipped", "busy", "deferred"


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
    """Write the row in the caller's transaction; delivery is triggered once it commits. An
    in-app row is delivered here and now (_deliver_inapp)."""
    notification = Notification(
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
    if channel == Channel.INAPP:
        return _deliver_inapp(notification)
    notification.save(force_insert=True)
    _trigger_on_commit(notification.pk, endpoint.pk if endpoint else None)
    return notification


def _deliver_inapp(notification: Notification) -> Notification:
    """In-app, the row is the message: delivering it is only the channel's check that its
    reader may still see it (channels/inapp.py). Done in the cause's transaction, it needs no
    worker and no trigger: the bell shows it once the cause commits, and a storm's bells cost
    no delivery task each. A row that fails the check is written dead, as a worker would."""
    notification.attempts = 1
    try:
        transport_for(Channel.INAPP).notify(notification)
    except TransportError as exc:
        notification.status, notification.last_error = Status.DEAD, exc.message
    else:
        notification.status, notification.sent_at = Status.SENT, timezone.now()
    notification.save(force_insert=True)
    return notification


def _trigger_on_commit(notification_id: int, endpoint_id: int | None = None) -> None:
    # robust: a broker that is down must not turn the committed cause (a reported incident)
    # into an error page; the row is in the outbox and the relay triggers it later.
    from escalation.tasks import deliver_notification

    def trigger_delivery() -> None:
        deliver_notification.delay(notification_id, endpoint_id)

    transaction.on_commit(trigger_delivery, robust=True)


def delivery_deadline() -> float:
    """The longest any one attempt can take, whatever the channel."""
    return float(max(settings.WEBHOOK_DEADLINE_SECONDS, settings.EMAIL_DEADLINE_SECONDS))


def claim_lifetime() -> timedelta:
    """How long a live worker can hold a claim: the attempt's deadline, then the time it keeps
    trying to record the send while the database is away (_mark_sent)."""
    return timedelta(seconds=delivery_deadline() + settings.NOTIFICATION_MARK_SENT_SECONDS)


def _stale_claim_age() -> timedelta:
    # Past its lifetime a claim belongs to a worker that died mid-send; the grace covers clocks
    # that differ between worker hosts.
    return claim_lifetime() + timedelta(seconds=settings.NOTIFICATION_CLAIM_GRACE_SECONDS)


def _claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=now - _stale_claim_age()
    )


def _take(rows, now: datetime) -> bool:
    claimed = rows.filter(_claimable(now), attempts__lt=F("max_attempts")).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, triggered_at=None
    )
    return claimed == 1


@dataclass
class Claim:
    """One attempt that is ours: `at` is the claim's token; `backing_off` says the endpoint
    had slow failures before (a success ends them)."""

    at: datetime
    backing_off: bool = False


def _claim(notification_id: int, endpoint_id: int | None = None) -> Claim | str:
    """Take the row for one attempt, or say why not (SKIPPED, BUSY, DEFERRED). `endpoint_id`,
    when the trigger names it, goes straight to the endpoint's limits."""
    now = timezone.now()
    if endpoint_id is not None:
        return _claim_at_endpoint(notification_id, endpoint_id, now)
    # Rows without an endpoint (email, in-app) in one statement, as before the limits.
    if _take(Notification.objects.filter(id=notification_id, endpoint=None), now):
        return Claim(now)
    row = Notification.objects.filter(id=notification_id).values("channel", "endpoint_id").first()
    if row is None or row["endpoint_id"] is None or row["channel"] != Channel.WEBHOOK:
        return SKIPPED
    return _claim_at_endpoint(notification_id, row["endpoint_id"], now)


def _health_locked(endpoint_id: int) -> EndpointHealth | None:
    """The endpoint's health row, locked until the transaction ends: claims for one endpoint
    count its deliveries in flight one at a time. None: the endpoint was deleted."""
    rows = EndpointHealth.objects.select_for_update().filter(endpoint_id=endpoint_id)
    health = rows.first()
    if health is None:
        if not WebhookEndpoint.objects.filter(id=endpoint_id).exists():
            return None
        EndpointHealth.objects.bulk_create(
            [EndpointHealth(endpoint_id=endpoint_id)], ignore_conflicts=True
        )
        health = rows.get()
    return health


def _claim_at_endpoint(notification_id: int, endpoint_id: int, now: datetime) -> Claim | str:
    mine = Notification.objects.filter(id=notification_id, endpoint_id=endpoint_id)
    if not mine.filter(_claimable(now), attempts__lt=F("max_attempts")).exists():
        # Sent already, most often by the endpoint's last delivery (_drain_endpoint): a storm's
        # triggers mostly end here, so without taking the endpoint's lock.
        return SKIPPED
    with transaction.atomic():
        health = _health_locked(endpoint_id)
        if health is None:  # deleted since: the relay's next trigger lets the channel say so
            return SKIPPED
        if health.backoff_until and health.backoff_until > now:
            # Waits without spending an attempt; the relay takes it up once the backoff is
            # over (its own trigger is spent, so it is marked untriggered).
            Notification.objects.filter(id=notification_id, status=Status.PENDING).update(
                triggered_at=None
            )
            return DEFERRED
        in_flight = Notification.objects.filter(
            endpoint_id=endpoint_id,
            status=Status.SENDING,
            claimed_at__gte=now - _stale_claim_age(),
        ).count()
        if in_flight >= settings.WEBHOOK_ENDPOINT_CONCURRENCY:
            return BUSY  # a delivery in flight takes it next (_drain_endpoint)
        if not _take(mine, now):
            return SKIPPED
        return Claim(now, backing_off=bool(health.slow_failures))


def _backoff(attempts: int) -> timedelta:
    seconds = settings.NOTIFICATION_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.NOTIFICATION_BACKOFF_MAX_SECONDS))


def notification_deliver(*, notification_id: int, endpoint_id: int | None = None) -> str:
    """Send one row. Returns its status afterwards, or SKIPPED (not ours to send), BUSY or
    DEFERRED (its endpoint's limits). A webhook row's delivery then sends its endpoint's next
    due rows, while its budget lasts. `endpoint_id`: the row's endpoint, if the trigger knew."""
    status, endpoint_id = _deliver(notification_id, endpoint_id)
    if endpoint_id is not None and status in (Status.SENT, Status.PENDING, Status.DEAD):
        _drain_endpoint(endpoint_id, tried={notification_id})
    return status


def _deliver(notification_id: int, endpoint_id: int | None = None) -> tuple[str, int | None]:
    """One attempt at one row: (what happened, the endpoint it went to)."""
    claim = _claim(notification_id, endpoint_id)
    if not isinstance(claim, Claim):
        return claim, None
    notification = Notification.objects.filter(id=notification_id).first()
    if notification is None:  # deleted with its incident since the claim
        return "gone", None
    endpoint_id = notification.endpoint_id if notification.channel == Channel.WEBHOOK else None
    started = time.monotonic()
    try:
        transport_for(notification.channel).notify(notification)
    except TransportError as exc:
        if exc.slow and endpoint_id is not None:
            _endpoint_slow(endpoint_id, time.monotonic() - started)
        status = _record_failure(notification, claim.at, exc.message, permanent=exc.permanent)
        return status, endpoint_id
    except DatabaseError:
        raise  # the task retries; the claim goes stale and the relay sends the row again
    except Exception as exc:
        # A transport's own bug or a time limit must not leave the row claimed until stale.
        log.exception(
            "notification %s: unexpected error in the %s channel",
            notification.id,
            notification.channel,
        )
        return _record_failure(notification, claim.at, f"unexpected error: {exc!r}"), endpoint_id
    _mark_sent(notification_id, claim.at)
    if claim.backing_off and endpoint_id is not None:
        EndpointHealth.objects.filter(endpoint_id=endpoint_id).update(
            slow_failures=0, backoff_until=None
        )
    return Status.SENT, endpoint_id


def _endpoint_slow(endpoint_id: int, seconds: float) -> None:
    """The receiver held the worker until a timeout or the deadline: its rows wait a while,
    doubling with each such attempt in a row, so it cannot keep workers from other tenants."""
    with transaction.atomic():
        health = _health_locked(endpoint_id)
        if health is None:
            return
        health.slow_failures += 1
        wait = settings.WEBHOOK_ENDPOINT_BACKOFF_SECONDS * 2 ** min(health.slow_failures - 1, 16)
        wait = min(wait, settings.WEBHOOK_ENDPOINT_BACKOFF_MAX_SECONDS)
        health.backoff_until = timezone.now() + timedelta(seconds=wait)
        health.save(update_fields=["slow_failures", "backoff_until"])
    log.warning(
        "webhook endpoint %s held a delivery %.1fs without an answer: its deliveries wait %ss",
        endpoint_id,
        seconds,
        wait,
    )


def _drain_endpoint(endpoint_id: int, tried: set[int]) -> None:
    """Send the endpoint's next due rows, one after another, for up to one delivery deadline;
    then hand the next one to a fresh task. Triggers that found the endpoint busy left their
    rows to this. A row tried here once is not tried again (a failure's retry waits for its
    backoff and the relay)."""
    from escalation.tasks import deliver_notification

    budget = time.monotonic() + delivery_deadline()
    while True:
        next_id = _endpoint_next(endpoint_id, tried)
        if next_id is None:
            return
        if time.monotonic() > budget:
            deliver_notification.delay(next_id, endpoint_id)
            return
        tried.add(next_id)
        status, _ = _deliver(next_id, endpoint_id)
        if status in (BUSY, DEFERRED, SKIPPED):
            return  # full again, backing off, or taken by another: they carry on


def _endpoint_next(endpoint_id: int, tried: set[int]) -> int | None:
    return (
        Notification.objects.filter(
            endpoint_id=endpoint_id,
            channel=Channel.WEBHOOK,
            status=Status.PENDING,
            next_attempt_at__lte=timezone.now(),
        )
        .exclude(id__in=tried)
        .order_by("next_attempt_at")  # the partial index notification_endpoint_due
        .values_list("id", flat=True)
        .first()
    )


def _mark_sent(notification_id: int, claim: datetime) -> None:
    """Record that the receiver has the row. The database may be away just now (a restart, a
    failover): giving up would leave the claim to go stale and the relay would send the row a
    second time, so keep trying while the claim lives (NOTIFICATION_MARK_SENT_SECONDS past the
    deadline); past that another worker may take it. Only the holder of this claim marks the
    row sent, so it is marked sent once."""
    budget = (claim + claim_lifetime() - timezone.now()).total_seconds()
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


def _due(now: datetime):
    relay_after = now - timedelta(seconds=settings.NOTIFICATION_RELAY_AFTER_SECONDS)
    return (
        Notification.objects.filter(
            # a first trigger lost on the way (broker down at commit, message lost in a crash)
            Q(status=Status.PENDING, next_attempt_at__lte=relay_after)
            # a retry whose backoff has run out
            | Q(status=Status.PENDING, attempts__gt=0, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=now - _stale_claim_age())
        )
        .filter(attempts__lt=F("max_attempts"))
        # not triggered by a relay lately: its trigger may still be waiting in the queue
        .filter(Q(triggered_at=None) | Q(triggered_at__lte=relay_after))
        # an endpoint backing off: its rows wait until it is over
        .exclude(endpoint__health__backoff_until__gt=now)
    )


def notifications_due(*, limit: int = 500) -> list[int]:
    """Rows a relay should trigger again: pending and due, or claimed by a worker now gone,
    and not triggered lately."""
    due = _due(timezone.now()).order_by("next_attempt_at")
    return list(due.values_list("id", flat=True)[:limit])


def notifications_relay(*, limit: int) -> list[int]:
    """Take up to `limit` rows due a trigger and mark them triggered now (two relays at once
    take different rows); the caller sends their triggers."""
    if limit <= 0:
        return []
    now = timezone.now()
    with transaction.atomic():
        due = (
            _due(now).order_by("next_attempt_at").select_for_update(skip_locked=True, of=("self",))
        )
        ids = list(due.values_list("id", flat=True)[:limit])
        if ids:
            Notification.objects.filter(id__in=ids).update(triggered_at=now)
    return ids


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
