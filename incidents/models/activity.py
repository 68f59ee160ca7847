"""What happens to an incident: the append-only event log, comments, attachments, people."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from incidents.models.incident import Incident
from tenancy.models import TenantOwned


class EventKind(models.TextChoices):
    REPORTED = "reported", "Reported"
    TRANSITION = "transition", "State changed"
    FIELD_CHANGED = "field_changed", "Field changed"
    ASSIGNED = "assigned", "Assigned"
    COMMENT = "comment", "Public reply"
    NOTE = "note", "Internal note"
    ATTACHMENT = "attachment", "File attached"
    JOINED = "joined", "Joined"
    NOTIFICATION = "notification", "Notification sent"
    SLA = "sla", "SLA"
    LINKED = "linked", "Linked"
    ALERT = "alert", "Monitoring alert"


class IncidentEvent(TenantOwned):
    """Append-only: written in the same transaction as the change it records."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    transition = models.CharField(max_length=20, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    # The incident's version after this change: a stale page can ask "what changed since v?".
    incident_version = models.PositiveIntegerField(default=1)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(default=True)
    actor_kind = models.CharField(max_length=12)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    # Which update of the source tool an imported event records (e.g. "3@2016-02-29T11:29");
    # empty for events born here. Unique per incident, so importing a file again adds nothing.
    source_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "source_key"],
                condition=~models.Q(source_key=""),
                name="event_unique_source_key",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "incident", "created_at"], name="event_timeline"),
            models.Index(fields=["tenant", "kind", "created_at"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transition} on {self.incident_id}"


class Comment(TenantOwned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    body = models.TextField()
    public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "incident", "created_at"], name="comment_time")]


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.tenant_id}/{instance.incident_id}/{filename}"


class Attachment(TenantOwned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        Comment, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    public = models.BooleanField(default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "incident"], name="attachment_incident")]


class Participant(TenantOwned):
    """A user affected by an incident they did not report: they follow it and are notified."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "user"], name="participant_unique"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "user"], name="participant_user")]


class IncidentMute(TenantOwned):
    """An address that asked, through the link in every email, to stop emails about one incident.

    Keyed by address rather than user so one table covers the reporter, affected users and a
    contact who has no account.
    """

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="mutes")
    address = models.EmailField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "address"], name="incidentmute_unique"
            ),
        ]


class IncidentContact(TenantOwned):
    """Someone without an account affected by an incident, known by their address: they get its
    emails, follow it through a signed link and may reply (the external counterpart of a
    Participant). The reporter recorded as a contact (Incident.contact_email) is not one."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="contacts")
    email = models.EmailField(max_length=254)  # lower case, as every address the desk compares
    name = models.CharField(max_length=150, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "incident", "email"], name="incidentcontact_unique"
            ),
        ]
        # Which incidents an address is a party to (mail threading asks this per message).
        indexes = [models.Index(fields=["tenant", "email"], name="incidentcontact_email")]

    def __str__(self) -> str:
        return f"{self.email} on {self.incident_id}"
