"""Who hears of an incident beyond its holder: agents who follow it (IncidentWatcher), and
which mails each member wants (MailPreferences). The bell shows everything whatever the mail
choice; only mail is chosen."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantOwned


class IncidentWatcher(TenantOwned):
    """An agent following an incident: told of its replies, notes and state changes."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="watchers"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "user"], name="incident_watcher_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.incident_id}"


class MailKind(models.TextChoices):
    """The kinds of mail a member chooses among (the bell shows all of them anyway)."""

    MINE = "my_incidents", "My incidents: assigned to me or followed by me"
    GROUP = "group_queue", "Group queue: unassigned incidents of my groups"
    MENTIONS = "mentions", "Mentions: someone @mentioned me in an internal note"
    SLA = "sla_alerts", "SLA alerts: warnings, breaches and escalation steps"


class MailPreferences(TenantOwned):
    """One member's mail choices in one tenant; no row means every kind is on."""

    membership = models.OneToOneField(
        "tenancy.Membership", on_delete=models.CASCADE, related_name="mail_preferences"
    )
    my_incidents = models.BooleanField(default=True)
    group_queue = models.BooleanField(default=True)
    mentions = models.BooleanField(default=True)
    sla_alerts = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"mail choices of membership {self.membership_id}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))
