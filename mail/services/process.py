"""Turn one stored message into what it means: a new incident, a comment, or nothing.

Exactly once: the message's row is locked and its status moves from `received` in the same
transaction as the incident or comment it makes, so a worker killed halfway leaves it received
(and the relay triggers it again), and a second worker finds it locked or done. A message that
fails is kept with its error in a transaction of its own, for an admin to retry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from django.db import DatabaseError, transaction
from django.utils import timezone

from incidents.errors import FileTooLarge, FileTypeRefused
from incidents.models import Incident, IncidentContact, Participant
from incidents.services.comments import attachment_add, check_attachment, comment_add
from incidents.services.people import incident_contact_add, incident_join
from incidents.services.report import TITLE_MAX, incident_report
from mail.models import InboundMail, InboundStatus, IntakeAddress, MailPolicy
from mail.services.body import Body, body_of
from mail.services.replies import refusal_answer
from mail.services.screen import (
    automatic_reason,
    list_reason,
    malformed_reason,
    other_recipients,
)
from mail.services.store import header, parse, sender_of
from mail.services.threads import (
    incident_by_references,
    incident_by_subject,
    message_ids,
    thread_record,
)
from tenancy.actors import Actor
from tenancy.errors import Refusal
from tenancy.models import Membership, Tenant

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


class Refused(Exception):
    """The message is kept, refused, with this reason; `answer`: the sender is told why (once a
    window), after the refused work is undone."""

    def __init__(self, reason: str, *, answer: bool = False) -> None:
        super().__init__(reason)
        self.answer = answer


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""
    outcome: str = ""
    incident: Incident | None = None


def inbound_process(*, inbound_id: int) -> str:
    """Process one stored message if it still waits; its status afterwards."""
    try:
        with transaction.atomic():
            row = (
                # of=self: the joined tenant and intake rows must not be locked too, or the
                # intake's inserts (their foreign keys) and every other mail of the tenant wait.
                InboundMail.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("intake", "tenant")
                .filter(id=inbound_id, status=InboundStatus.RECEIVED)
                .first()
            )
            if row is None:
                return "skipped"  # done already, or another worker holds it
            result = _outcome(row)
            _finish(row, result)
            return result.status
    except DatabaseError:
        raise  # the database is away: the task retries, the row stays received
    except Exception as exc:
        log.exception("inbound mail %s failed", inbound_id)
        return _record_failure(inbound_id, exc)


def _finish(row: InboundMail, result: Outcome) -> None:
    row.status = result.status
    row.reason = result.reason[:4000]
    row.outcome = result.outcome
    row.incident = result.incident
    row.processed_at = timezone.now()
    row.attempts += 1
    row.save(update_fields=["status", "reason", "outcome", "incident", "processed_at", "attempts"])


def _record_failure(inbound_id: int, exc: Exception) -> str:
    rows = InboundMail.objects.filter(id=inbound_id, status=InboundStatus.RECEIVED)
    row = rows.first()
    if row is None:
        return "skipped"
    attempts = row.attempts + 1
    # A bug in the desk is worth a few retries (the relay), then an admin's look.
    status = InboundStatus.FAILED if attempts >= MAX_ATTEMPTS else InboundStatus.RECEIVED
    rows.update(status=status, attempts=attempts, reason=f"{type(exc).__name__}: {exc}"[:4000])
    return status


def _outcome(row: InboundMail) -> Outcome:
    try:
        message = parse(bytes(row.raw))
    except Exception as exc:
        return Outcome(InboundStatus.REFUSED, f"The message cannot be read as email: {exc}")
    sender = sender_of(message)
    if not sender:
        return Outcome(InboundStatus.REFUSED, "The message has no sender (From) address.")
    reason = malformed_reason(message)
    if reason:
        return Outcome(InboundStatus.REFUSED, reason)
    reason = automatic_reason(message, sender)
    if reason:
        return Outcome(InboundStatus.IGNORED, reason)
    try:
        with transaction.atomic():  # a refusal halfway undoes what the mail did before it
            return Conversation(row, message, sender).handle()
    except Refused as refused:
        if refused.answer:
            refusal_answer(tenant=row.tenant, address=sender, intake=row.intake)
        return Outcome(InboundStatus.REFUSED, str(refused))
    except Refusal as refusal:  # a service said no (too long, a closed incident, ...)
        return Outcome(InboundStatus.REFUSED, refusal.message)


class Conversation:
    def __init__(self, row: InboundMail, message: EmailMessage, sender: str) -> None:
        self.row = row
        self.message = message
        self.sender = sender
        self.tenant: Tenant = row.tenant
        self.intake: IntakeAddress = row.intake
        self.policy = MailPolicy.objects.for_tenant(self.tenant).first() or MailPolicy()
        self.membership = (
            Membership.objects.for_tenant(self.tenant)
            .select_related("user", "tenant")
            .filter(user__email__iexact=sender, is_active=True, user__is_active=True)
            .first()
        )
        self.sender_name = next(
            (n for n, a in getaddresses([header(message, "From")]) if a.lower() == sender), ""
        )

    def handle(self) -> Outcome:
        incident = self._thread()
        if incident is not None and not incident.is_final:
            return self._reply(incident)
        reason = list_reason(self.message)
        if reason:
            return Outcome(InboundStatus.IGNORED, reason)
        return self._new(follows=incident)

    # --- which incident --------------------------------------------------------------------
    def _thread(self) -> Incident | None:
        refs = message_ids(header(self.message, "References"))
        refs += message_ids(header(self.message, "In-Reply-To"))
        incident = incident_by_references(self.tenant.pk, refs)
        if incident is not None:
            return incident
        incident = incident_by_subject(self.tenant.pk, header(self.message, "Subject"))
        if incident is not None and self._is_party(incident):
            return incident
        return None

    def _is_party(self, incident: Incident) -> bool:
        if self.membership is not None:
            if self.membership.role != "requester":
                return True  # the desk's staff may answer any incident
            user_id = self.membership.user_id
            return (
                incident.reporter_id == user_id
                or Participant.objects.for_tenant(self.tenant)
                .filter(incident=incident, user_id=user_id)
                .exists()
            )
        if incident.reporter_id is None and incident.contact_email.lower() == self.sender:
            return True
        return (
            IncidentContact.objects.for_tenant(self.tenant)
            .filter(incident=incident, email=self.sender)
            .exists()
        )

    # --- who speaks ------------------------------------------------------------------------
    def _actor(self, incident: Incident | None) -> Actor:
        """The sender as an actor, joining the incident first where they may."""
        if self.membership is not None:
            actor = Actor.member(self.membership)
            if incident is not None and not self._is_party(incident):
                incident_join(incident=incident, actor=actor, user=self.membership.user)
            return actor
        actor = Actor.contact(
            self.tenant, name=self.sender_name or self._known_name(incident), email=self.sender
        )
        if incident is not None and not self._is_party(incident):
            if not self.policy.accepts(self.sender):
                raise Refused(
                    f"{self.sender} is not a party to {incident.reference}, and the desk's "
                    "policy does not accept mail from people outside the organisation."
                )
            incident_contact_add(
                incident=incident,
                actor=Actor.system(self.tenant, "Email intake"),
                email=self.sender,
                name=self.sender_name,
            )
        return actor

    def _known_name(self, incident: Incident | None) -> str:
        """The name the incident knows the sender by, for a mail that gives none."""
        if incident is None:
            return ""
        if incident.contact_email.lower() == self.sender:
            return incident.contact_name
        contact = IncidentContact.objects.for_tenant(self.tenant).filter(
            incident=incident, email=self.sender
        )
        return contact.values_list("name", flat=True).first() or ""

    def _add_cc(self, incident: Incident) -> None:
        """People in To and Cc follow the incident: members join, strangers become affected
        contacts if the policy accepts them."""
        system = Actor.system(self.tenant, "Email intake")
        for name, address in other_recipients(self.message, self.sender):
            member = (
                Membership.objects.for_tenant(self.tenant)
                .select_related("user")
                .filter(user__email__iexact=address, is_active=True, user__is_active=True)
                .first()
            )
            if member is not None:
                if member.user_id != incident.reporter_id:
                    incident_join(incident=incident, actor=system, user=member.user)
            elif self.policy.accepts(address):
                incident_contact_add(incident=incident, actor=system, email=address, name=name)

    # --- what it does ----------------------------------------------------------------------
    def _reply(self, incident: Incident) -> Outcome:
        actor = self._actor(incident)
        body = body_of(self.message, reply=True)
        accepted, refused = _checked_files(body)
        text = _with_refused(body.text, refused)
        if not text and not accepted:
            text = "(an empty reply)"
        comment_add(incident=incident, actor=actor, body=text, public=True, files=accepted)
        self._add_cc(incident)
        thread_record(incident, self.row.message_id)
        return Outcome(InboundStatus.DONE, outcome="commented", incident=incident)

    def _new(self, *, follows: Incident | None) -> Outcome:
        if self.membership is None and not self.policy.accepts(self.sender):
            raise Refused(
                f"{self.sender} is not a member, and the desk's policy refuses mail from "
                "people outside the organisation.",
                answer=True,
            )
        actor = self._actor(None)
        body = body_of(self.message, reply=follows is not None)
        accepted, refused = _checked_files(body)
        description = _with_refused(body.text, refused)
        if follows is not None:
            description = (
                f"This mail answered {follows.reference}, which is "
                f"{follows.get_state_display().lower()}; it opened this new incident.\n\n"
                + description
            )
        title = " ".join(header(self.message, "Subject").split())[:TITLE_MAX] or _first_line(
            body.text
        )
        stranger = self.membership is None
        incident = incident_report(
            actor=actor,
            title=title,
            description=description[:20_000],
            impact=self.intake.impact,
            urgency=self.intake.urgency,
            category=self.intake.category
            if self.intake.category and self.intake.category.is_active
            else None,
            contact_name=self.sender_name[:150] if stranger else "",
            contact_email=self.sender if stranger else "",
        )
        for upload in accepted:
            attachment_add(incident=incident, actor=actor, upload=upload)
        self._add_cc(incident)
        thread_record(incident, self.row.message_id)
        return Outcome(InboundStatus.DONE, outcome="reported", incident=incident)


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line[:TITLE_MAX] or "(no subject)"


def _checked_files(body: Body) -> tuple[list, list[str]]:
    """Files that pass the uploads' size and type checks, and why each other one did not."""
    accepted, refused = [], []
    for upload in body.files:
        try:
            check_attachment(upload)
            accepted.append(upload)
        except (FileTooLarge, FileTypeRefused) as exc:
            refused.append(exc.message)
    return accepted, refused


def _with_refused(text: str, refused: list[str]) -> str:
    if not refused:
        return text
    listed = "\n".join(f"- {reason}" for reason in refused)
    return f"{text}\n\nFiles not accepted from this mail:\n{listed}".strip()
