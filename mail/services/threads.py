"""Threading: a conversation stays one incident.

Every mail the desk sends about an incident carries its own Message-ID, In-Reply-To and
References naming the incident's root Message-ID, the `[INC-000042]` token in its subject and a
Reply-To of the tenant's intake address. Each of those IDs is recorded, as is every ID received
for an incident, so a reply is matched by In-Reply-To/References first; the subject token is
trusted only from a sender who is a party to that incident (a guessed number must not inject
a comment into someone else's incident).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing

from incidents.models import Incident
from mail.models import IntakeAddress, ThreadMessage

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
ROOT_SALT = "mail.thread-root"


def desk_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def root_message_id(incident: Incident) -> str:
    """Stable for the incident, and not guessable from its number."""
    signature = signing.Signer(salt=ROOT_SALT).signature(f"{incident.tenant_id}.{incident.pk}")
    return f"<incident.{incident.pk}.{signature[:16].lower()}@{desk_domain()}>"


def reply_to_address(tenant_id: int) -> str:
    """The tenant's first active intake address ('' when it has none: replies go to From)."""
    intake = (
        IntakeAddress.objects.for_tenant(tenant_id)
        .filter(is_active=True)
        .order_by("created_at", "pk")
        .values_list("address", flat=True)
        .first()
    )
    return intake or ""


def thread_headers(*, incident: Incident, message_id: str, kind: str) -> dict[str, str]:
    """The headers of one mail about an incident; records its IDs for matching replies."""
    root = root_message_id(incident)
    thread_record(incident, root, message_id)
    headers = {
        "In-Reply-To": root,
        "References": root,
        # RFC 3834: an acknowledgement answers a person's mail, everything else is generated.
        "Auto-Submitted": "auto-replied" if kind == "acknowledgement" else "auto-generated",
    }
    reply_to = reply_to_address(incident.tenant_id)
    if reply_to:
        headers["Reply-To"] = reply_to
    return headers


def subject_with_token(subject: str, incident: Incident) -> str:
    token = f"[{incident.reference}]"
    return subject if token in subject else f"{token} {subject}"


def thread_record(incident: Incident, *message_ids: str) -> None:
    rows = [
        ThreadMessage(tenant_id=incident.tenant_id, message_id=mid[:998], incident=incident)
        for mid in message_ids
        if mid
    ]
    # One INSERT; an ID already known (for this or, oddly, another incident) keeps its first.
    if rows:
        ThreadMessage.objects.bulk_create(rows, ignore_conflicts=True)


def message_ids(value: str) -> list[str]:
    return MESSAGE_ID.findall(value or "")


def incident_by_references(tenant_id: int, references: list[str]) -> Incident | None:
    """The incident of the newest referenced ID the desk knows (the last in References is the
    parent)."""
    if not references:
        return None
    known = dict(
        ThreadMessage.objects.for_tenant(tenant_id)
        .filter(message_id__in=references)
        .values_list("message_id", "incident_id")
    )
    for ref in reversed(references):
        if ref in known:
            return Incident.objects.for_tenant(tenant_id).filter(pk=known[ref]).first()
    return None


SUBJECT_TOKEN = re.compile(r"\[([A-Z]{2,10}-\d{1,12})\]")


def incident_by_subject(tenant_id: int, subject: str) -> Incident | None:
    """The incident a `[INC-000042]` token names, if any; the caller checks the sender."""
    match = SUBJECT_TOKEN.search(subject or "")
    if match is None:
        return None
    prefix, _, number = match.group(1).rpartition("-")
    incident = Incident.objects.for_tenant(tenant_id).filter(number=int(number)).first()
    if incident is None or incident.reference != match.group(1):
        return None
    return incident
