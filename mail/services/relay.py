"""Messages whose trigger was lost (the broker down at commit, a worker killed mid-task)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mail.models import InboundMail, InboundStatus


def inbound_waiting(*, limit: int = 500) -> list[int]:
    since = timezone.now() - timedelta(seconds=settings.MAIL_RELAY_AFTER_SECONDS)
    waiting = InboundMail.objects.filter(status=InboundStatus.RECEIVED, received_at__lte=since)
    return list(waiting.order_by("received_at").values_list("id", flat=True)[:limit])
