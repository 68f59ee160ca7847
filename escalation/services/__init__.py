"""Escalation services. The outbox lives in outbox.py; every name it exports is re-exported here
so `from escalation.services import notification_enqueue` keeps working. The SLA clock hooks
(clocks.py), the escalation climb (climb.py), alerts (alerts.py) and the sweep (sweep.py) are
imported by their module path, never from here, so incidents.services can import them without
a cycle through this package."""

from escalation.services.outbox import *  # noqa: F403
from escalation.services.outbox import (  # noqa: F401  (named for readers and type checkers)
    notification_deliver,
    notification_enqueue,
    notification_retry,
    notifications_due,
)
