"""Celery triggers of the outbox. The rows are the truth; a lost or repeated message is harmless."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from escalation import services


@shared_task(
    name="escalation.deliver_notification",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def deliver_notification(notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)


@shared_task(
    name="escalation.relay_notifications", autoretry_for=(OperationalError,), max_retries=3
)
def relay_notifications() -> int:
    services.notifications_bury_abandoned()
    ids = services.notifications_due()
    # While workers are down every relay run triggers the same rows again; a trigger older than
    # two runs is dropped unread, as a newer one for the same row is already queued.
    expires = 2 * settings.NOTIFICATION_RELAY_INTERVAL_SECONDS
    for notification_id in ids:
        deliver_notification.apply_async((notification_id,), expires=expires)
    return len(ids)
