"""In-app notifications: what a member's bell counts and lists.

A row shows once the `inapp` channel has delivered it (status sent), only to its recipient,
only inside its tenant.
"""

from __future__ import annotations

from django.db.models import QuerySet

from escalation.models import Channel, Notification, NotificationStatus
from tenancy.actors import Actor


def inbox_for(*, actor: Actor) -> QuerySet[Notification]:
    if actor.user_id is None:
        return Notification.objects.none()
    return Notification.objects.for_tenant(actor.tenant).filter(
        channel=Channel.INAPP, status=NotificationStatus.SENT, recipient_id=actor.user_id
    )


def inbox_unread_count(*, actor: Actor) -> int:
    return inbox_for(actor=actor).filter(read_at__isnull=True).count()
