"""Celery triggers of the outbox. The rows are the truth; a lost or repeated message is harmless."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from escalation.services import outbox
from escalation.services.alerts import alerts_notify_pending
from escalation.services.autoclose import incidents_auto_close
from escalation.services.sweep import clocks_audit, sweep_due


@shared_task(
    name="escalation.deliver_notification",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def deliver_notification(notification_id: int) -> str:
    return outbox.notification_deliver(notification_id=notification_id)


@shared_task(
    name="escalation.relay_notifications", autoretry_for=(OperationalError,), max_retries=3
)
def relay_notifications() -> int:
    outbox.notifications_bury_abandoned()
    ids = outbox.notifications_due()
    # While workers are down every relay run triggers the same rows again; a trigger older than
    # two runs is dropped unread, as a newer one for the same row is already queued.
    expires = 2 * settings.NOTIFICATION_RELAY_INTERVAL_SECONDS
    for notification_id in ids:
        deliver_notification.apply_async((notification_id,), expires=expires)
    return len(ids)


# --- SLA clocks and escalation: triggers only; the rows hold every deadline -------------------
DB_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="escalation.sweep_clocks", **DB_RETRY)
def sweep_clocks() -> int:

    result = sweep_due()
    if result.alerts:
        notify_alerts.delay()
    return result.alerts


@shared_task(name="escalation.notify_alerts", **DB_RETRY)
def notify_alerts() -> int:

    handled, batch = 0, 100
    for _ in range(50):  # bounded; beat runs it again as a relay
        done = alerts_notify_pending(limit=batch)
        handled += done
        if done < batch:
            break
    return handled


@shared_task(name="escalation.audit_clocks", **DB_RETRY)
def audit_clocks() -> int:

    return clocks_audit().overdue


@shared_task(name="escalation.auto_close", **DB_RETRY)
def auto_close() -> int:

    return incidents_auto_close()
