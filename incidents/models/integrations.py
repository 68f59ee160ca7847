"""Monitoring integrations (Alertmanager, PagerDuty Events v2, a generic JSON webhook) and the
log of every alert they sent: accepted, deduplicated, ignored or refused, with the reason."""

from django.db import models
from django.utils import timezone

from incidents.models.config import Category
from incidents.models.incident import Incident
from tenancy.models import TenantOwned


class IntegrationKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    PAGERDUTY = "pagerduty_events", "PagerDuty Events API v2"
    WEBHOOK = "generic_webhook", "Generic JSON webhook"


class Integration(TenantOwned):
    kind = models.CharField(max_length=20, choices=IntegrationKind.choices)
    name = models.CharField(max_length=100)
    # The key is shown once; only its hash is kept (a routing key, a Bearer token).
    key_prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    enabled = models.BooleanField(default=True)
    # [{"label": "severity", "value": "critical", "impact": "high", "urgency": "high",
    #   "category": "<slug>"}], first match wins (incidents/intake/rules.py).
    rules = models.JSONField(default=list, blank=True)
    default_impact = models.CharField(max_length=10, default="medium")
    default_urgency = models.CharField(max_length=10, default="medium")
    default_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolve_on_resolved = models.BooleanField(default=True)
    # Alertmanager: one incident per alert group (its groupKey) instead of one per fingerprint.
    group_alerts = models.BooleanField(default=False)
    # Generic webhook: field -> path ({"dedup_key": "$.id", "title": "$.name", ...}).
    mapping = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    key_rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class AlertOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DEDUPLICATED = "deduplicated", "Deduplicated"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"


class AlertLog(TenantOwned):
    """One row per alert received (an Alertmanager group gives one per alert in it)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="log")
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=14, choices=AlertOutcome.choices)
    action = models.CharField(max_length=20, blank=True)
    dedup_key = models.CharField(max_length=255, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["tenant", "integration", "-received_at"])]
