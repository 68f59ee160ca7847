"""The notifications outbox: one row per recipient and channel, written with its cause."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantOwned


class Channel(models.TextChoices):
    EMAIL = "email", "Email"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DEAD = "dead", "Failed for good"


class Notification(TenantOwned):
    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    address = models.CharField(max_length=500)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    # Stable across retries: the email Message-ID, so a receiver can drop a rare repeat.
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["tenant", "incident"], name="notification_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address} ({self.status})"


# The SLA half of the app (calendars, policies, clocks, alerts, escalation) lives beside it.
from escalation.models_sla import (  # noqa: E402,F401
    AlertKind,
    AuditStatus,
    BusinessCalendar,
    CalendarHoliday,
    ClockState,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    LIVE_CLOCK_STATES,
    Metric,
    NotifyKind,
    RunState,
    SlaAlert,
    SlaClock,
    SlaPause,
    SlaPolicy,
)
