"""The outbox: enqueue with the cause, deliver at least once, never lose a row.

A row is written in its cause's transaction; once that commits, its trigger goes to the
`delivery` queue, one message for each NOTIFICATION_DELIVERY_BATCH rows of the transaction that
go to one endpoint (or to none), so a notifier's batch of alerts costs a few messages, not one a
row. Delivery itself (claims, sessions, limits, recording) is delivery.py.

Each tenant's triggers go to its delivery lane (lanes.py): a tenant in a storm waits in a lane
of its own, so its backlog does not delay everyone else's alerts.

The relay triggers only rows it has not triggered within NOTIFICATION_RELAY_AFTER_SECONDS
(`triggered_at`; a claim clears it), only once the delivery queue has drained, and no more than
fit under NOTIFICATION_RELAY_MAX_QUEUED waiting messages (escalation/tasks.py): it cannot feed
itself, and a backlog drains at the workers' speed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from escalation.channels import TransportError, transport_for
from escalation.models import Channel, Notification, NotificationStatus, WebhookEndpoint

# The delivery's entry points and words, named here as before delivery.py held them.
from escalation.services.delivery import (  # noqa: F401
    BUSY,
    DEFERRED,
    SKIPPED,
    claim_lifetime,
    delivery_deadline,
    notification_deliver,
    notifications_deliver,
    stale_claim_age,
)
from escalation.services.lanes import delivery_lanes

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
    link: str = "",
    endpoint: WebhookEndpoint | None = None,
) -> Notification:
    """Write the row in the caller's transaction; delivery is triggered once it commits. An
    in-app row is delivered here and now (_deliver_inapp). Inside notifications_in_bulk the
    row is written with the others when the block ends (it has no id until then)."""
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
    bulk = _bulk.get()
    if channel == Channel.INAPP:
        _deliver_inapp(notification, bulk)
    if bulk is not None:
        bulk.rows.append(notification)
        return notification
    notification.save(force_insert=True)
    if channel != Channel.INAPP:
        _trigger_on_commit(Trigger.of(notification))
    return notification


class Trigger(NamedTuple):
    """What a delivery trigger needs of a row: its batch (the endpoint) and lane (the tenant)."""

    id: int
    endpoint_id: int | None
    tenant_id: int

    @classmethod
    def of(cls, row: Notification) -> Trigger:
        return cls(row.pk, row.endpoint_id, row.tenant_id)


@dataclass
class _Bulk:
    rows: list[Notification] = field(default_factory=list)
    # (tenant, reader) -> why an in-app row cannot reach them ("" when it can)
    readers: dict[tuple[int, int | None], str] = field(default_factory=dict)


_bulk: ContextVar[_Bulk | None] = ContextVar("outbox_bulk", default=None)


@contextmanager
def notifications_in_bulk() -> Iterator[None]:
    """Rows enqueued inside are written with one INSERT when the block ends, and each in-app
    reader is checked once: a notifier's batch of alerts writes hundreds of rows to the same
    few people. Call it inside the cause's transaction."""
    bulk = _Bulk()
    token = _bulk.set(bulk)
    try:
        yield
    finally:
        _bulk.reset(token)
    for row in Notification.objects.bulk_create(bulk.rows):
        if row.channel != Channel.INAPP:
            _trigger_on_commit(Trigger.of(row))


def _deliver_inapp(notification: Notification, bulk: _Bulk | None = None) -> None:
    """In-app, the row is the message: delivering it is only the channel's check that its
    reader may still see it (channels/inapp.py). Done in the cause's transaction, it needs no
    worker and no trigger: the bell shows it once the cause commits, and a storm's bells cost
    no delivery task each. A row that fails the check is written dead, as a worker would."""
    notification.attempts = 1
    key = (notification.tenant_id, notification.recipient_id)
    if bulk is not None and key in bulk.readers:
        refused = bulk.readers[key]
    else:
        try:
            transport_for(Channel.INAPP).notify(notification)
            refused = ""
        except TransportError as exc:
            refused = exc.message
        if bulk is not None:
            bulk.readers[key] = refused
    if refused:
        notification.status, notification.last_error = Status.DEAD, refused
    else:
        notification.status, notification.sent_at = Status.SENT, timezone.now()


def _trigger_on_commit(trigger: Trigger) -> None:
    """Trigger the row once its transaction commits, with the transaction's other rows."""
    if not connection.in_atomic_block:  # written in autocommit: committed already
        _on_commit([trigger])
        return
    pending = getattr(_local, "pending", None)
    if pending is None or not _waiting(pending[1], pending[2]):
        rows: list[Trigger] = []
        pending = _local.pending = (rows, _on_commit(rows), tuple(connection.savepoint_ids))
    pending[0].append(trigger)


_local = threading.local()


def _waiting(callback, savepoints: tuple) -> bool:
    """The callback will run at commit, with rows added now. Only within the savepoint it was
    registered in: a savepoint rolled back takes its callbacks along, and tests'
    captureOnCommitCallbacks run those of a block and leave them registered."""
    return (
        not callback.ran
        and savepoints == tuple(connection.savepoint_ids)
        and any(entry[1] is callback for entry in connection.run_on_commit)
    )


def _on_commit(rows: list[Trigger]):
    def trigger_delivery() -> None:  # a function: Django names it if it fails
        trigger_delivery.ran = True  # type: ignore[attr-defined]
        triggers_send(rows)

    trigger_delivery.ran = False  # type: ignore[attr-defined]

    # robust: a broker that is down must not turn the committed cause (a reported incident)
    # into an error page; the rows are in the outbox and the relay triggers them later.
    transaction.on_commit(trigger_delivery, robust=True)
    return trigger_delivery


def triggers_send(rows: list[Trigger], *, size: int = 0) -> None:
    """One delivery message per batch of rows bound for one endpoint (or none), in the lane of
    the rows' tenant; `size` rows a batch at most (NOTIFICATION_DELIVERY_BATCH by default)."""
    from escalation.tasks import deliver_notification, deliver_notifications

    lanes = delivery_lanes(Counter(row.tenant_id for row in rows))
    batches: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for row in rows:
        batches[(lanes[row.tenant_id], row.endpoint_id)].append(row.id)
    size = size or settings.NOTIFICATION_DELIVERY_BATCH
    for (lane, endpoint_id), ids in batches.items():
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            if len(batch) == 1:
                deliver_notification.apply_async((batch[0], endpoint_id), queue=lane)
            else:
                deliver_notifications.apply_async((batch, endpoint_id), queue=lane)


def _due(now: datetime):
    relay_after = now - timedelta(seconds=settings.NOTIFICATION_RELAY_AFTER_SECONDS)
    return (
        Notification.objects.filter(
            # a first trigger lost on the way (broker down at commit, message lost in a crash)
            Q(status=Status.PENDING, next_attempt_at__lte=relay_after)
            # a retry whose backoff has run out
            | Q(status=Status.PENDING, attempts__gt=0, next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=now - stale_claim_age())
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


def notifications_relay(*, limit: int) -> list[Trigger]:
    """Take up to `limit` rows due a trigger and mark them triggered now (two relays at once
    take different rows); the caller sends their triggers (triggers_send)."""
    if limit <= 0:
        return []
    now = timezone.now()
    with transaction.atomic():
        due = (
            _due(now).order_by("next_attempt_at").select_for_update(skip_locked=True, of=("self",))
        )
        rows = [Trigger(*row) for row in due.values_list("id", "endpoint_id", "tenant_id")[:limit]]
        if rows:
            Notification.objects.filter(id__in=[row.id for row in rows]).update(triggered_at=now)
    return rows


def notifications_bury_abandoned() -> int:
    """A worker died during a row's last attempt: nobody may try again, so the row is dead."""
    stale = timezone.now() - stale_claim_age()
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
    _trigger_on_commit(Trigger.of(notification))
    notification.refresh_from_db()
    return notification
