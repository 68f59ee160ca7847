"""The notifications outbox: one row per recipient and channel, written with its cause."""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.models import TenantOwned


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    INAPP = "inapp", "In the desk"
    WEBHOOK = "webhook", "Webhook"


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
    delivery_id = models.UUIDField(default=uuid.uuid4, editable=False)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the relay last sent this row a trigger that no worker has taken yet (a claim clears
    # it): a row triggered recently is not triggered again, so the relay cannot feed itself.
    # Null for the first trigger, sent on commit.
    triggered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # In-app: where the bell's entry leads (a path inside the desk), and when it was read.
    link = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Webhook: the endpoint the row is for; its current URL and secret are used at send time.
    endpoint = models.ForeignKey(
        "escalation.WebhookEndpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
        db_index=False,
    )

    class Meta:
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["tenant", "incident"], name="notification_incident"),
            # The bell and the list of a person's in-app notifications.
            models.Index(
                fields=["tenant", "recipient", "-created_at"],
                name="notification_inbox",
                condition=Q(channel="inapp", status="sent"),
            ),
            models.Index(
                fields=["tenant", "endpoint", "-created_at"], name="notification_endpoint"
            ),
            # The next row of an endpoint a worker may send (its in-flight limit, outbox.py).
            models.Index(
                fields=["endpoint", "next_attempt_at"],
                name="notification_endpoint_due",
                condition=Q(status="pending", channel="webhook"),
            ),
            # The dead letter page: few rows, so a partial index keeps it cheap.
            models.Index(
                fields=["tenant", "-created_at"],
                name="notification_dead",
                condition=Q(status="dead"),
            ),
        ]
        # A random id, unique by construction; the tenant leads as in every key (docs/scaling.md).
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "delivery_id"], name="notification_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.address} ({self.status})"


class WebhookEvent(models.TextChoices):
    INCIDENT_CREATED = "incident.created", "Incident created"
    INCIDENT_TRANSITIONED = "incident.transitioned", "Incident changed state"
    INCIDENT_COMMENTED = "incident.commented", "Comment or note added"
    SLA_WARNING = "sla.warning", "SLA warning"
    SLA_BREACHED = "sla.breached", "SLA breached"
    PROBLEM_CREATED = "problem.created", "Problem logged"
    PROBLEM_TRANSITIONED = "problem.transitioned", "Problem changed state"
    PROBLEM_LINKED = "problem.linked", "Incident linked to or unlinked from a problem"
    ARTICLE_PUBLISHED = "article.published", "Knowledge article published"


# Sent on request from the settings page, whatever the endpoint subscribes to.
PING_EVENT = "ping"


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(TenantOwned):
    """A URL of the tenant's that receives signed JSON POSTs for the events it subscribes to."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    events = models.JSONField(default=list)
    slack_format = models.BooleanField(
        default=False,
        help_text='Send {"text": "..."} that Slack, Mattermost and similar chat tools accept.',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_tenant_active")]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event: str) -> bool:
        return self.is_active and event in self.events


class EndpointHealth(models.Model):
    """How an endpoint's receiver has been answering: after an attempt that ran into the
    deadline its rows wait until backoff_until, so a slow or dead receiver holds no worker
    meanwhile. A table of its own: writing the endpoint's row would renew the tenant's
    configuration stamp (tenancy/config_stamp.py). Its row is also the lock that counts an
    endpoint's deliveries in flight (outbox.py)."""

    endpoint = models.OneToOneField(
        WebhookEndpoint, primary_key=True, on_delete=models.CASCADE, related_name="health"
    )
    backoff_until = models.DateTimeField(null=True, blank=True)
    slow_failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"endpoint {self.endpoint_id}: {self.slow_failures} slow failures"
