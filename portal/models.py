"""What the portal keeps of its own: the one-time token of each report form sent."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantOwned


class ReportSubmission(TenantOwned):
    """A report form's one-time token, written in the transaction that creates the incident.

    The unique constraint is the double-submit guard: a second POST of the same form (double
    click, reload, back-and-resend) collides with the first and is shown the first's incident.
    """

    token = models.UUIDField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # Empty only inside the reporting transaction: the token row is written before the incident.
    incident = models.ForeignKey(
        "incidents.Incident", null=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "token"], name="reportsubmission_unique"),
        ]
