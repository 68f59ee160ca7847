"""Delivering outbox rows: claim, send within the channel's deadline, record once.

A row moves pending -> sending -> sent, or back to pending with a later next_attempt_at after a
temporary failure, or to dead after a permanent failure or its last attempt. The claim that moves
it to sending is a conditional update, so two workers never send the same row at once; a claim
left by a worker that died mid-send goes stale and the relay triggers the row again.

Rows are sent in batches (one trigger per batch, outbox._trigger_on_commit): a batch shares one
session of its channel (one connection to the mail server; an endpoint's POSTs one after
another) and one deadline, the channel's, so a whole batch ends within the time one attempt was
allowed and its claims never go stale while it runs. A row the session has no time left for is
handed back untouched (`_release`).

Limits that keep one receiver, or the relay itself, from holding up everyone's alerts
(docs/operations.md):
- Every attempt ends within its channel's deadline (channels/deadline.py), so a claim older than
  the longest deadline plus the time a sender keeps recording the send while the database is
  away (`claim_lifetime`), plus a grace for clocks that differ between hosts, is a dead
  worker's: stale. Celery's time limits are a backstop only.
- An endpoint has at most WEBHOOK_ENDPOINT_CONCURRENCY deliveries in flight. A trigger for one
  more of its rows leaves the row pending ("busy"); each delivery to the endpoint takes the
  endpoint's next due row itself when it ends (`_drain`), in place of its own, so its rows still
  go out one after another while the other workers serve everyone else.
- An attempt that ran into a timeout or the deadline backs its endpoint off (doubling from
  WEBHOOK_ENDPOINT_BACKOFF_SECONDS): its rows wait ("deferred") without spending attempts, and
  the relay leaves them alone until the backoff is over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.channels import TransportError, transport_for
from escalation.channels.base import Session
from escalation.models import (
    Channel,
    EndpointHealth,
    Notification,
    NotificationStatus,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)
Status = NotificationStatus
# What a delivery says of a row besides its status: not ours to send (another worker has it, or
# it is done); its endpoint has its fill of deliveries in flight; its endpoint is backing off.
SKIPPED, BUSY, DEFERRED = "skipped", "busy", "deferred"
SLOW = "slow"  # failed on a receiver that held the session past a timeout: the batch stops


def delivery_deadline() -> float:
    """The longest any one attempt (a batch's session) can take, whatever the channel."""
    return float(max(settings.WEBHOOK_DEADLINE_SECONDS, settings.EMAIL_DEADLINE_SECONDS))


def claim_lifetime() -> timedelta:
    """How long a live worker can hold a claim: the attempt's deadline, then the time it keeps
    trying to record the send while the database is away (_mark_sent)."""
    return timedelta(seconds=delivery_deadline() + settings.NOTIFICATION_MARK_SENT_SECONDS)


def stale_claim_age() -> timedelta:
    # Past its lifetime a claim belongs to a worker that died mid-send; the grace covers clocks
    # that differ between worker hosts.
    return claim_lifetime() + timedelta(seconds=settings.NOTIFICATION_CLAIM_GRACE_SECONDS)


def claimable(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, claimed_at__lt=now - stale_claim_age()
    )


@dataclass
class Claim:
    """Rows that are ours for one attempt: `at` is the claim's token (every row of a batch
    carries it); `backing_off` says the endpoint had slow failures before (a success ends
    them)."""

    at: datetime
    backing_off: bool = False


def _take(rows, now: datetime) -> int:
    return rows.filter(claimable(now), attempts__lt=F("max_attempts")).update(
        status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1, triggered_at=None
    )


# --- entry points -------------------------------------------------------------------------


def notification_deliver(*, notification_id: int, endpoint_id: int | None = None) -> str:
    """Send one row. Returns its status afterwards, or SKIPPED (not ours to send), BUSY or
    DEFERRED (its endpoint's limits). A webhook row's delivery then sends its endpoint's next
    due rows, while its session lasts. `endpoint_id`: the row's endpoint, if the trigger knew."""
    outcome = notifications_deliver(ids=[notification_id], endpoint_id=endpoint_id)
    return outcome.get(notification_id, SKIPPED)


def notifications_deliver(*, ids: list[int], endpoint_id: int | None = None) -> dict[int, str]:
    """Send the rows one trigger names (all of one endpoint, or none with an endpoint, as
    outbox._send_triggers groups them); what became of each row handled."""
    if endpoint_id is not None:
        return _deliver_at_endpoint(ids, endpoint_id)
    outcome = _deliver_batch(ids)
    # A single trigger from the relay or a retry does not say the row's endpoint.
    rest = [i for i in ids if i not in outcome]
    rows = Notification.objects.filter(id__in=rest, channel=Channel.WEBHOOK).exclude(endpoint=None)
    for row_id, row_endpoint in rows.values_list("id", "endpoint_id"):
        outcome |= _deliver_at_endpoint([row_id], row_endpoint)
    return outcome


# --- rows without an endpoint (email): one claim, one session ------------------------------


def _deliver_batch(ids: list[int]) -> dict[int, str]:
    now = timezone.now()
    if not _take(Notification.objects.filter(id__in=ids, endpoint=None), now):
        return {}
    rows = list(
        Notification.objects.filter(id__in=ids, status=Status.SENDING, claimed_at=now)
        .select_related("incident__tenant")
        .order_by("id")
    )
    outcome: dict[int, str] = {}
    for channel in dict.fromkeys(row.channel for row in rows):
        same = [row for row in rows if row.channel == channel]
        outcome |= _send_rows(channel, same, Claim(now))
    return outcome


def _send_rows(channel: str, rows: list[Notification], claim: Claim) -> dict[int, str]:
    outcome: dict[int, str] = {}
    try:
        transport = transport_for(channel)
    except TransportError as exc:
        return {row.id: _record_failure(row, claim.at, exc.message, permanent=True) for row in rows}
    with transport.session() as session:
        for index, row in enumerate(rows):
            if not session.has_time():
                _release(rows[index:], claim, trigger=True)
                break
            outcome[row.id] = _attempt(session, row, claim)
            if outcome[row.id] == SLOW:  # the server holds us up: the rest wait for the relay
                outcome[row.id] = Status.PENDING
                _release(rows[index + 1 :], claim, trigger=False)
                break
    return outcome


def _attempt(session: Session, row: Notification, claim: Claim) -> str:
    """One row's attempt within the session: its status afterwards, or SLOW after a failure
    that held the session (recorded as a failure already)."""
    endpoint_id = row.endpoint_id if row.channel == Channel.WEBHOOK else None
    started = time.monotonic()
    try:
        session.send(row)
    except TransportError as exc:
        status = _record_failure(row, claim.at, exc.message, permanent=exc.permanent)
        if not exc.slow:
            return status
        if endpoint_id is not None:
            _endpoint_slow(endpoint_id, time.monotonic() - started)
        return SLOW if status == Status.PENDING else status
    except DatabaseError:
        raise  # the task retries; the claim goes stale and the relay sends the row again
    except Exception as exc:
        # A transport's own bug or a time limit must not leave the row claimed until stale.
        log.exception("notification %s: unexpected error in the %s channel", row.id, row.channel)
        return _record_failure(row, claim.at, f"unexpected error: {exc!r}")
    _mark_sent(row.id, claim.at)
    if claim.backing_off and endpoint_id is not None:
        claim.backing_off = False
        EndpointHealth.objects.filter(endpoint_id=endpoint_id).update(
            slow_failures=0, backoff_until=None
        )
    return Status.SENT


def _release(rows: Iterable[Notification], claim: Claim, *, trigger: bool) -> None:
    """Hand back rows claimed but not tried: pending again, the attempt not spent. `trigger`:
    a fresh task takes them at once (the session ran out of time, not the server)."""
    ids = [row.id for row in rows]
    if not ids:
        return
    Notification.objects.filter(id__in=ids, status=Status.SENDING, claimed_at=claim.at).update(
        status=Status.PENDING, claimed_at=None, attempts=F("attempts") - 1, triggered_at=None
    )
    if trigger:
        from escalation.services.outbox import Trigger, triggers_send

        triggers_send([Trigger.of(row) for row in rows])


# --- an endpoint's rows: within its limits, one after another ------------------------------


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
    if not mine.filter(claimable(now), attempts__lt=F("max_attempts")).exists():
        # Sent already, most often by the endpoint's last delivery (_drain): a storm's triggers
        # mostly end here, so without taking the endpoint's lock.
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
            claimed_at__gte=now - stale_claim_age(),
        ).count()
        if in_flight >= settings.WEBHOOK_ENDPOINT_CONCURRENCY:
            return BUSY  # a delivery in flight takes it next (_drain)
        if not _take(mine, now):
            return SKIPPED
        return Claim(now, backing_off=bool(health.slow_failures))


def _deliver_at_endpoint(ids: list[int], endpoint_id: int) -> dict[int, str]:
    """Claim the first of the trigger's rows the endpoint's limits allow, send it, then the
    endpoint's next due rows in its place while the session lasts. The trigger's other rows
    are among those due: the same drain, or another delivery's, takes them."""
    outcome: dict[int, str] = {}
    for notification_id in ids:
        claim = _claim_at_endpoint(notification_id, endpoint_id, timezone.now())
        if isinstance(claim, Claim):
            return outcome | _drain(notification_id, claim, endpoint_id)
        outcome[notification_id] = claim
        if claim in (BUSY, DEFERRED):
            return outcome | dict.fromkeys(ids[len(outcome) :], claim)
    return outcome


def _drain(first_id: int, claim: Claim, endpoint_id: int) -> dict[int, str]:
    """A row failed is not tried again here (its retry waits for its backoff and the relay)."""
    outcome: dict[int, str] = {}
    tried = {first_id}
    row = Notification.objects.select_related("endpoint").filter(id=first_id).first()
    if row is None:  # deleted with its incident since the claim
        return {first_id: "gone"}
    with transport_for(Channel.WEBHOOK).session() as session:
        while True:
            status = _attempt(session, row, claim)
            outcome[row.id] = Status.PENDING if status == SLOW else status
            if status == SLOW:
                return outcome  # backing off now: its rows wait
            if not session.has_time():
                _hand_on(endpoint_id, tried)
                return outcome
            taken = _take_next(endpoint_id, tried, claim)
            if taken is None:
                return outcome
            row, claim = taken
            tried.add(row.id)


def _take_next(endpoint_id: int, tried: set[int], held: Claim) -> tuple[Notification, Claim] | None:
    """The endpoint's next due row, claimed in place of the one just done: the deliveries in
    flight stay as many, so the limit needs no count."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            _due_at(endpoint_id, tried, now)
            .select_related("endpoint")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if row is None:
            return None
        _take(Notification.objects.filter(id=row.id), now)
    row.status, row.claimed_at, row.attempts = Status.SENDING, now, row.attempts + 1
    return row, Claim(now, backing_off=held.backing_off)


def _due_at(endpoint_id: int, tried: set[int], now: datetime):
    return (
        Notification.objects.filter(
            endpoint_id=endpoint_id,
            channel=Channel.WEBHOOK,
            status=Status.PENDING,
            next_attempt_at__lte=now,
            attempts__lt=F("max_attempts"),
        )
        .exclude(id__in=tried)
        .order_by("next_attempt_at")  # the partial index notification_endpoint_due
    )


def _hand_on(endpoint_id: int, tried: set[int]) -> None:
    """The session is spent: a fresh task takes the endpoint's next due row."""
    from escalation.services.outbox import Trigger, triggers_send

    due = _due_at(endpoint_id, tried, timezone.now())
    next_row = due.values_list("id", "tenant_id").first()
    if next_row is not None:
        triggers_send([Trigger(next_row[0], endpoint_id, next_row[1])])


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


# --- recording -----------------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    seconds = settings.NOTIFICATION_BACKOFF_SECONDS * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.NOTIFICATION_BACKOFF_MAX_SECONDS))


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
