"""The tenant admin's side of email in: intake addresses and their defaults, the policy for
senders who are not members, and retrying a message that failed or was refused.

An intake address is unique across tenants (the recipient names the tenant), so a clash with
another desk is refused without naming it. The IMAP password is write-only: nothing here
returns it, and a blank one on an edit keeps the stored one. Every change is audited (issue 17);
the password only as "changed", never its value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Category, Level
from incidents.rules import check_admin
from incidents.services.audited import audit_change
from incidents.services.priority import check_level
from mail.models import (
    ImapSecurity,
    InboundMail,
    InboundStatus,
    IntakeAddress,
    MailPolicy,
    UnknownSenders,
)
from mail.services.store import trigger_on_commit
from tenancy import rls
from tenancy.actors import Actor
from tenancy.addresses import private_address_error
from tenancy.errors import Conflict, InvalidInput

WHAT = "manage email intake"
TEXT_MAX = 255  # the IMAP columns' length
MAX_DOMAINS = 200
RETRYABLE = (InboundStatus.FAILED, InboundStatus.REFUSED)
# A host name (labels of letters, digits and inner hyphens) or an IPv4 address; IPv6 in brackets
# is rare enough for a mailbox that we ask for a name instead.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
# A domain people write from: two labels at least, the last not all digits.
DOMAIN_RE = re.compile(rf"^({_LABEL}\.)+(?![0-9]+$){_LABEL}$")


@dataclass(frozen=True)
class Imap:
    """The polling settings of one address, as typed; `password` blank keeps the stored one."""

    enabled: bool = False
    host: str = ""
    port: int = 993
    security: str = ImapSecurity.SSL
    username: str = ""
    password: str = ""
    folder: str = "INBOX"


# --- intake addresses -----------------------------------------------------------------------


@transaction.atomic
def intake_address_create(
    *,
    actor: Actor,
    address: str,
    category: Category | None = None,
    impact: str = "medium",
    urgency: str = "medium",
    imap_enabled: bool = False,
    imap_host: str = "",
    imap_port: int = 993,
    imap_security: str = ImapSecurity.SSL,
    imap_username: str = "",
    imap_password: str = "",
    imap_folder: str = "INBOX",
) -> IntakeAddress:
    check_admin(actor, WHAT)
    imap = Imap(
        imap_enabled, imap_host, imap_port, imap_security, imap_username, imap_password, imap_folder
    )
    intake = IntakeAddress(tenant=actor.tenant)
    _apply(actor, intake, address, category, impact, urgency, imap)
    return intake


@transaction.atomic
def intake_address_update(
    *,
    actor: Actor,
    intake: IntakeAddress,
    address: str,
    category: Category | None = None,
    impact: str = "medium",
    urgency: str = "medium",
    imap_enabled: bool = False,
    imap_host: str = "",
    imap_port: int = 993,
    imap_security: str = ImapSecurity.SSL,
    imap_username: str = "",
    imap_password: str | None = "",
    imap_folder: str = "INBOX",
) -> IntakeAddress:
    """Every field as the admin wants it now; a blank `imap_password` keeps the stored one."""
    check_admin(actor, WHAT)
    intake = _lock(actor, intake)
    imap = Imap(
        imap_enabled,
        imap_host,
        imap_port,
        imap_security,
        imap_username,
        imap_password or "",
        imap_folder,
    )
    _apply(actor, intake, address, category, impact, urgency, imap)
    return intake


@transaction.atomic
def intake_address_deactivate(*, actor: Actor, intake: IntakeAddress) -> IntakeAddress:
    """Mail to it is refused at RCPT and its mailbox is no longer polled; what it received
    stays, and the address stays this tenant's (reactivate it to use it again)."""
    return _set_active(actor, intake, False)


@transaction.atomic
def intake_address_reactivate(*, actor: Actor, intake: IntakeAddress) -> IntakeAddress:
    return _set_active(actor, intake, True)


def _set_active(actor: Actor, intake: IntakeAddress, active: bool) -> IntakeAddress:
    check_admin(actor, WHAT)
    intake = _lock(actor, intake)
    if intake.is_active != active:
        intake.is_active = active
        intake.save(update_fields=["is_active"])
        audit_change(
            actor=actor,
            action="intake_address.reactivated" if active else "intake_address.deactivated",
            target=intake,
            before={"active": not active},
            after={"active": active},
        )
    return intake


def _lock(actor: Actor, intake: IntakeAddress) -> IntakeAddress:
    return IntakeAddress.objects.for_tenant(actor.tenant).select_for_update().get(pk=intake.pk)


def _apply(
    actor: Actor,
    intake: IntakeAddress,
    address: str,
    category: Category | None,
    impact: str,
    urgency: str,
    imap: Imap,
) -> None:
    """Check every field, then save: a refusal names the first wrong field and writes nothing."""
    address = _clean_address(actor, address, intake)
    category = _clean_category(actor, category, intake)
    fields: dict[str, Any] = {
        "address": address,
        "category": category,
        "impact": check_level(impact, "impact"),
        "urgency": check_level(urgency, "urgency"),
        **_clean_imap(imap, stored_password=intake.imap_password),
    }
    polling = ("imap_enabled", "imap_host", "imap_port", "imap_security", "imap_username")
    if intake.pk and any(getattr(intake, f) != fields[f] for f in polling):
        fields["imap_last_error"] = ""  # the error was about the settings just replaced
    before = _intake_words(intake) if intake.pk else {}
    stored_password = intake.imap_password
    for name, value in fields.items():
        setattr(intake, name, value)
    _save_unique(actor, intake)
    after = _intake_words(intake)
    if intake.imap_password != stored_password:
        after["imap_password"] = "changed" if before else "set"
    action = "intake_address.changed" if before else "intake_address.created"
    audit_change(actor=actor, action=action, target=intake, before=before, after=after)


def _intake_words(intake: IntakeAddress) -> dict[str, Any]:
    """The address as its audit record shows it; the password is left out."""
    level = dict(Level.choices)
    security = dict(ImapSecurity.choices)
    return {
        "address": intake.address,
        "category": intake.category.name if intake.category else None,
        "impact": level.get(intake.impact, intake.impact),
        "urgency": level.get(intake.urgency, intake.urgency),
        "imap_polling": intake.imap_enabled,
        "imap_host": intake.imap_host,
        "imap_port": intake.imap_port,
        "imap_security": security.get(intake.imap_security, intake.imap_security),
        "imap_username": intake.imap_username,
        "imap_folder": intake.imap_folder,
    }


def _clean_address(actor: Actor, address: str, intake: IntakeAddress) -> str:
    # Lower case: the intake matches recipients whatever their case, so two spellings of one
    # address must not become two rows.
    address = (address or "").strip().lower()
    if not address:
        raise InvalidInput("Give the address people write to.", field="address")
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidInput(
            f"“{address[:300]}” is not a valid email address (e.g. help@example.com).",
            field="address",
        ) from None
    if len(address) > 254:
        raise InvalidInput("An email address is limited to 254 characters.", field="address")
    _check_free(actor, address, intake)
    return address


def _check_free(actor: Actor, address: str, intake: IntakeAddress) -> None:
    # Deliberately across tenants: one address can feed one desk only. The other desk is never
    # named, so the answer tells nobody who else uses the desk.
    with rls.bypass("is this intake address another desk's?", routine=True):
        taken = IntakeAddress.objects.filter(address__iexact=address).exclude(pk=intake.pk).first()
    if taken is None:
        return
    if taken.tenant_id != actor.tenant.pk:
        raise InvalidInput(f"{address} already receives mail for another desk.", field="address")
    again = "" if taken.is_active else " (deactivated: reactivate it from the list)"
    raise InvalidInput(f"{address} is already one of yours{again}.", field="address")


def _save_unique(actor: Actor, intake: IntakeAddress) -> None:
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the transaction usable
            intake.save()
    except IntegrityError:
        _check_free(actor, intake.address, intake)
        raise


def _clean_category(
    actor: Actor, category: Category | None, intake: IntakeAddress
) -> Category | None:
    if category is None:
        return None
    if category.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such category here.", field="category")
    if not category.is_active and category.pk != intake.category_id:
        raise InvalidInput(
            f"{category.name} is inactive: reactivate it first, or choose another.",
            field="category",
        )
    return category


def _clean_imap(imap: Imap, *, stored_password: str) -> dict[str, Any]:
    host = (imap.host or "").strip().lower()
    username = (imap.username or "").strip()
    folder = (imap.folder or "").strip() or "INBOX"
    password = imap.password or stored_password
    for field, value in (
        ("imap_host", host),
        ("imap_username", username),
        ("imap_password", password),
        ("imap_folder", folder),
    ):
        if len(value) > TEXT_MAX:
            raise InvalidInput(f"This is limited to {TEXT_MAX} characters.", field=field)
    if host and not HOST_RE.match(host):
        raise InvalidInput(
            f"“{host}” is not a host name (e.g. imap.example.com).", field="imap_host"
        )
    if not isinstance(imap.port, int) or not 1 <= imap.port <= 65535:
        raise InvalidInput("The IMAP port is a number from 1 to 65535.", field="imap_port")
    refused = host and private_address_error(
        host,
        imap.port,
        what="Mailboxes are polled only at public addresses",
        allow_private=settings.MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES,
    )
    if refused:
        raise InvalidInput(refused, field="imap_host")
    if imap.security not in ImapSecurity.values:
        raise InvalidInput(
            "Choose how to secure the connection: ssl (TLS from the start) or starttls.",
            field="imap_security",
        )
    if imap.enabled:
        _require_together(host, username, password)
    return {
        "imap_enabled": bool(imap.enabled),
        "imap_host": host,
        "imap_port": imap.port,
        "imap_security": imap.security,
        "imap_username": username,
        "imap_password": password,
        "imap_folder": folder,
    }


def _require_together(host: str, username: str, password: str) -> None:
    """Polling needs the server, the user and the password, all three."""
    if not host:
        raise InvalidInput("To poll a mailbox, give its IMAP server.", field="imap_host")
    if not username:
        raise InvalidInput("To poll a mailbox, give its user name.", field="imap_username")
    if not password:
        raise InvalidInput("To poll a mailbox, give its password.", field="imap_password")


# --- the policy for senders who are not members ---------------------------------------------


@transaction.atomic
def mail_policy_set(
    *, actor: Actor, unknown_senders: str, allowed_domains: list[str]
) -> MailPolicy:
    """The tenant's one policy row, created on first save. The domain list is kept whatever
    the choice, so switching back to "listed domains" finds it."""
    check_admin(actor, WHAT)
    if unknown_senders not in UnknownSenders.values:
        raise InvalidInput(
            "Choose what to do with mail from people who are not members: contact, domains "
            "or refuse.",
            field="unknown_senders",
        )
    domains = clean_domains(allowed_domains)
    if unknown_senders == UnknownSenders.DOMAINS and not domains:
        raise InvalidInput(
            "List at least one domain to accept mail from (e.g. example.com).",
            field="allowed_domains",
        )
    policy, _ = MailPolicy.objects.select_for_update().get_or_create(tenant=actor.tenant)
    before = _policy_words(policy)
    policy.unknown_senders = unknown_senders
    policy.allowed_domains = domains
    policy.updated_at = timezone.now()
    policy.save(update_fields=["unknown_senders", "allowed_domains", "updated_at"])
    audit_change(
        actor=actor,
        action="mail_policy.changed",
        target=policy,
        target_label="mail from people who are not members",
        before=before,
        after=_policy_words(policy),
    )
    return policy


def _policy_words(policy: MailPolicy) -> dict[str, Any]:
    return {
        "unknown_senders": UnknownSenders(policy.unknown_senders).label,
        "allowed_domains": list(policy.allowed_domains),
    }


def clean_domains(domains: list[str]) -> list[str]:
    """Domain names in lower case, in the order given, once each; "@example.com" is taken as
    example.com. A wrong one is refused by name."""
    cleaned: list[str] = []
    for raw in domains:
        domain = (raw or "").strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not _is_domain(domain):
            raise InvalidInput(
                f"“{domain[:100]}” is not a domain name (e.g. example.com).",
                field="allowed_domains",
            )
        if domain not in cleaned:
            cleaned.append(domain)
    if len(cleaned) > MAX_DOMAINS:
        raise InvalidInput(f"List at most {MAX_DOMAINS} domains.", field="allowed_domains")
    return cleaned


def _is_domain(domain: str) -> bool:
    try:
        ascii_form = domain.encode("idna").decode("ascii")  # an international name's A-label
    except UnicodeError:
        return False
    return len(ascii_form) <= 253 and DOMAIN_RE.match(ascii_form) is not None


# --- retrying a message ---------------------------------------------------------------------


@transaction.atomic
def inbound_retry(*, actor: Actor, inbound: InboundMail) -> InboundMail:
    """Process a failed or refused message again from the start (after a fix, or a change of
    policy): it waits as if just received, and its processing is triggered once this commits."""
    check_admin(actor, WHAT)
    row = InboundMail.objects.for_tenant(actor.tenant).select_for_update().get(pk=inbound.pk)
    if row.status not in RETRYABLE:
        raise Conflict(
            f"Only a failed or refused message can be retried; this one is "
            f"{row.get_status_display().lower()}."
        )
    row.status = InboundStatus.RECEIVED
    row.attempts = 0
    row.reason = ""
    row.outcome = ""
    row.processed_at = None
    row.save(update_fields=["status", "attempts", "reason", "outcome", "processed_at"])
    trigger_on_commit(row.pk)
    return row
