"""In-app notifications: marking them read (escalation/selectors/notifications.py reads them)."""

from __future__ import annotations

from django.utils import timezone

from escalation.models import Notification
from escalation.selectors.notifications import inbox_for
from tenancy.actors import Actor


def notification_mark_read(*, actor: Actor, notification: Notification) -> Notification:
    """Idempotent: the first reading time is kept."""
    now = timezone.now()
    inbox_for(actor=actor).filter(id=notification.id, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Actor) -> int:
    return inbox_for(actor=actor).filter(read_at__isnull=True).update(read_at=timezone.now())
