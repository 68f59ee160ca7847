"""Messages whose trigger was lost (the broker down at commit, a worker killed mid-task).

As the outbox's relay (escalation/services/outbox.py), it cannot feed itself: a message it
triggered is not triggered again for MAIL_RELAY_AFTER_SECONDS, whether its trigger still waits
in the queue or was lost, so however long the workers are away the queue holds at most one relay
trigger per waiting message, and a backlog drains at the workers' speed.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mail.models import InboundMail, InboundStatus


def inbound_relay(*, limit: int = 500) -> list[int]:
    """Take up to `limit` messages waiting a trigger and mark them triggered now (two relays at
    once take different ones); the caller sends their triggers."""
    now = timezone.now()
    since = now - timedelta(seconds=settings.MAIL_RELAY_AFTER_SECONDS)
    with transaction.atomic():
        waiting = (
            InboundMail.objects.filter(status=InboundStatus.RECEIVED, received_at__lte=since)
            .filter(Q(triggered_at=None) | Q(triggered_at__lte=since))
            .order_by("received_at")
            .select_for_update(skip_locked=True, of=("self",))
        )
        ids = list(waiting.values_list("id", flat=True)[:limit])
        if ids:
            InboundMail.objects.filter(id__in=ids).update(triggered_at=now)
    return ids
