"""escalation's writes: the notifications outbox and its delivery (outbox.py), webhooks
(webhooks.py), in-app reading (inbox.py), SLA clocks (clocks.py), the escalation climb
(climb.py), alerts (alerts.py), the sweep (sweep.py), auto-close (autoclose.py), the SLA
configuration (config.py) and a new tenant's defaults (defaults.py). The outbox's entry points
are named here; the rest are imported by their module."""

from escalation.services.outbox import (
    notification_deliver,
    notification_enqueue,
    notification_retry,
    notifications_due,
)

__all__ = [
    "notification_deliver",
    "notification_enqueue",
    "notification_retry",
    "notifications_due",
]
