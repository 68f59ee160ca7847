"""Intake addresses, each tenant's policy for strangers, and every message received, raw."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenancy.models import TenantOwned


class UnknownSenders(models.TextChoices):
    CONTACT = "contact", "Accept them as external contacts"
    DOMAINS = "domains", "Accept only senders from the listed domains"
    REFUSE = "refuse", "Refuse them, with one polite explanation a day"


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "TLS from the start (port 993)"
    STARTTLS = "starttls", "STARTTLS (port 143)"


class IntakeAddress(TenantOwned):
    """An address people write to. Unique across tenants: the recipient names the tenant."""

    address = models.EmailField(max_length=254, unique=True)
    category = models.ForeignKey(
        "incidents.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A mail is not a form: medium/medium unless the address says otherwise.
    impact = models.CharField(max_length=20, default="medium")
    urgency = models.CharField(max_length=20, default="medium")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Polling of an existing mailbox (optional); what is taken is marked \Seen and flagged.
    imap_enabled = models.BooleanField(default=False)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password = models.CharField(max_length=255, blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_last_polled_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "intake addresses"
        indexes = [models.Index(fields=["tenant", "is_active"], name="intake_tenant_active")]

    def __str__(self) -> str:
        return self.address


class MailPolicy(TenantOwned):
    """What the desk does with mail from someone who is not a member (one row per tenant)."""

    unknown_senders = models.CharField(
        max_length=10, choices=UnknownSenders.choices, default=UnknownSenders.CONTACT
    )
    allowed_domains = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="mail_policy_one")]

    def accepts(self, address: str) -> bool:
        if self.unknown_senders == UnknownSenders.CONTACT:
            return True
        if self.unknown_senders == UnknownSenders.DOMAINS:
            domain = address.rpartition("@")[2].lower()
            return domain in {d.lower() for d in self.allowed_domains}
        return False


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Waiting to be processed"
    DONE = "done", "Processed"
    IGNORED = "ignored", "Ignored"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class InboundMail(TenantOwned):
    """One message as it arrived, stored before anything is done with it (at-least-once in,
    exactly-once processed: the status moves from received in the transaction that acts)."""

    intake = models.ForeignKey(IntakeAddress, on_delete=models.PROTECT, related_name="messages")
    # The Message-ID header, or one made from the message's digest when it has none.
    message_id = models.CharField(max_length=998)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    via = models.CharField(max_length=10)  # smtp or imap
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    reason = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)  # reported, commented
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "intake", "message_id"], name="inbound_once"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-received_at"], name="inbound_recent"),
            models.Index(
                fields=["received_at"],
                name="inbound_waiting",
                condition=Q(status="received"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class ThreadMessage(TenantOwned):
    """A Message-ID the desk sent or received about an incident: a reply naming any of them in
    In-Reply-To or References belongs to that incident."""

    message_id = models.CharField(max_length=998)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "message_id"], name="thread_message_once")
        ]


class AutoAnswer(TenantOwned):
    """An automatic answer the desk sent (a refusal, an acknowledgement): a sender gets at most
    one of a kind per window, so two auto-responders cannot talk to each other for ever."""

    address = models.CharField(max_length=254)
    kind = models.CharField(max_length=40)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["tenant", "address", "kind", "-sent_at"], name="auto_answer_recent"
            )
        ]
