"""Mail that must never become an incident nor get an answer: loops and junk.

Each rule returns the reason kept on the ignored message, for admins to see.
"""

from __future__ import annotations

from email import errors
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from django.conf import settings

from mail.models import IntakeAddress
from mail.services.store import header

ROBOT_SENDERS = ("mailer-daemon", "postmaster")
BULK_PRECEDENCE = ("bulk", "junk", "list")


def desk_addresses(among: set[str]) -> set[str]:
    """Which of these (lower-case) addresses are the desk's own: its From or any intake
    address (of any tenant). Asked only about the addresses of the mail at hand."""
    own = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()} & among
    own |= set(IntakeAddress.objects.filter(address__in=among).values_list("address", flat=True))
    return own


def automatic_reason(message: EmailMessage, sender: str) -> str:
    """Why this mail is automatic (an auto-responder, a bounce, bulk mail), or ''."""
    auto = header(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"automatic mail (Auto-Submitted: {auto})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponse"):
        if header(message, name):
            return f"automatic reply ({name} header)"
    precedence = header(message, "Precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"bulk mail (Precedence: {precedence})"
    if _is_delivery_report(message):
        return "delivery status notification (a bounce)"
    if sender.partition("@")[0] in ROBOT_SENDERS:
        return f"mail from a mail system ({sender})"
    if desk_addresses({sender}):
        return f"mail from the desk's own address {sender} (a loop)"
    return ""


def _is_delivery_report(message: EmailMessage) -> bool:
    if message.get_content_type() != "multipart/report":
        return False
    report_type = message.get_param("report-type")
    report_type = report_type.lower() if isinstance(report_type, str) else ""
    return report_type in ("delivery-status", "disposition-notification") or not report_type


def list_reason(message: EmailMessage) -> str:
    """A mailing list's mail opens no conversation (a reply to the desk may still pass)."""
    for name in ("List-Id", "List-Unsubscribe"):
        if header(message, name):
            return f"mailing-list mail ({name} header)"
    return ""


def other_recipients(message: EmailMessage, sender: str) -> list[tuple[str, str]]:
    """(name, address) of the people in To and Cc other than the sender and the desk."""
    pairs = getaddresses([header(message, "To"), header(message, "Cc")])
    own = desk_addresses({address.lower() for _, address in pairs})
    seen: set[str] = set()
    people = []
    for name, address in pairs:
        address = address.lower()
        if "@" in address and address not in own and address != sender and address not in seen:
            seen.add(address)
            people.append((name, address))
    return people


# Defects after which the parts of a message cannot be told apart: what it says is unknown.
UNREADABLE = (errors.StartBoundaryNotFoundDefect, errors.MultipartInvariantViolationDefect)


def malformed_reason(message: EmailMessage) -> str:
    """Why the structure of this message cannot be read, or ''. Lesser defects (a bad date, a
    stray header line, an unknown charset) are read as well as they can be."""
    for part in message.walk():
        for defect in part.defects:
            if isinstance(defect, UNREADABLE):
                return (
                    "The message's MIME structure is broken (its parts' boundary "
                    f"{part.get_boundary() or ''!r} never appears), so its text cannot be read."
                )
    return ""
