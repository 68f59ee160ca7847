from django.db import models
from django.utils import timezone

from incidents.models.incident import Incident
from tenancy.models import TenantOwned


class AlertSource(TenantOwned):
    """A monitoring alert's dedup_key bound to the open incident it created.

    At most one active row per key (a partial unique index), so an alert storm, even sent
    concurrently, creates one incident: the losers of the insert race find the winner's row.
    """

    dedup_key = models.CharField(max_length=255)
    incident = models.ForeignKey(
        Incident, null=True, on_delete=models.CASCADE, related_name="alert_sources"
    )
    active = models.BooleanField(default=True)
    trigger_count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "dedup_key"],
                condition=models.Q(active=True),
                name="alertsource_unique_active_key",
            ),
        ]
