"""What escalation holds about a person (tenancy/personal_data.py): the notifications to them
(the outbox keeps each mail's address and words), the incidents they watch, the escalation
levels that page them and the alerts and runs they acknowledged or escalated."""

from __future__ import annotations

from escalation.models import (
    EscalationLevel,
    EscalationRun,
    IncidentWatcher,
    Notification,
    SlaAlert,
)
from tenancy.personal_data import Held, Mentioned, declare


def register() -> None:
    declare(
        "escalation",
        [
            Held(Notification, "recipient", "delete"),
            Held(Notification, "address", "delete"),
            Held(IncidentWatcher, "user", "delete"),
            Held(EscalationLevel, "user", "detach"),
            Held(EscalationRun, "acknowledged_by", "detach"),
            Held(EscalationRun, "escalated_by", "detach"),
            Held(SlaAlert, "notify_user", "detach"),
            Held(SlaAlert, "escalated_by", "detach"),
            Held(SlaAlert, "acknowledged_by", "detach"),
        ],
        mentioned=[Mentioned(SlaAlert, "recipients")],
    )
