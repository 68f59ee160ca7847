"""What the tenant admin's pages and API read of email in."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from mail.models import InboundMail, InboundStatus, IntakeAddress, MailPolicy
from mail.services.store import header, parse
from tenancy.models import Tenant

# The headers that explain what the desk did with a message (threading, loop guards).
SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "Content-Type",
)
SOURCE_MAX_BYTES = 100_000


def intake_addresses_for_settings(tenant: Tenant) -> QuerySet[IntakeAddress]:
    rows = IntakeAddress.objects.for_tenant(tenant).select_related("category")
    return rows.order_by("-is_active", "address")


def mail_policy_for(tenant: Tenant) -> MailPolicy:
    """The tenant's policy, or the default (accept strangers as contacts) before any save."""
    return MailPolicy.objects.for_tenant(tenant).first() or MailPolicy(tenant=tenant)


def inbound_for_settings(tenant: Tenant, status: str = "") -> QuerySet[InboundMail]:
    """Received messages, newest first, without their raw bytes; `status` filters when it is
    one of InboundStatus."""
    rows = (
        InboundMail.objects.for_tenant(tenant)
        .select_related("intake", "incident")
        .defer("raw")
        .order_by("-received_at", "-id")
    )
    return rows.filter(status=status) if status in InboundStatus.values else rows


def inbound_counts(tenant: Tenant) -> dict[str, int]:
    """How many messages are in each status (one grouped query), every status named."""
    rows = (
        InboundMail.objects.for_tenant(tenant).values("status").annotate(n=Count("id")).order_by()
    )
    counts = dict.fromkeys(InboundStatus.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class Source:
    """A message as an admin may look at it: some headers and the raw text, never as HTML."""

    headers: list[tuple[str, str]]
    text: str
    truncated: bool


def inbound_source(inbound: InboundMail) -> Source:
    raw = bytes(inbound.raw)
    try:
        message = parse(raw)
        headers = [(n, v) for n in SHOWN_HEADERS if (v := header(message, n))]
    except Exception:  # a message too broken to parse still shows its raw text
        headers = []
    text = raw[:SOURCE_MAX_BYTES].decode("utf-8", errors="replace")
    return Source(headers, text, len(raw) > SOURCE_MAX_BYTES)
