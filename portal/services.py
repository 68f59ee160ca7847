"""The portal's writes. Each composes the incident services; none changes an incident itself."""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from incidents.models import Category, Incident, IncidentMute
from incidents.rules import is_reporter
from incidents.services import attachment_add, incident_close, incident_reopen, incident_report
from portal.models import ReportSubmission
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed


class AlreadySubmitted(InvalidInput):
    """The form's one-time token was used by someone else; the person must send it again."""


def portal_report(
    *,
    actor: Actor,
    token: uuid.UUID,
    title: str,
    description: str,
    impact: str,
    urgency: str,
    category: Category | None,
    files: list[UploadedFile],
) -> tuple[Incident, bool]:
    """Report once per form: (incident, True), or (the first incident, False) on a resubmit.

    The token row is written first in the reporting transaction: a concurrent second submit
    waits on its unique index and then fails, so it never allocates a second number.
    """
    if actor.user is None:
        raise NotAllowed("Reports through the portal come from the desk's members.")
    try:
        with transaction.atomic():
            submission = ReportSubmission.objects.create(
                tenant=actor.tenant, token=token, user=actor.user
            )
            incident = incident_report(
                actor=actor,
                title=title,
                description=description,
                impact=impact,
                urgency=urgency,
                category=category,
            )
            for upload in files:
                attachment_add(incident=incident, actor=actor, upload=upload)
            submission.incident = incident
            submission.save(update_fields=["incident"])
            return incident, True
    except IntegrityError:
        first = (
            ReportSubmission.objects.for_tenant(actor.tenant)
            .select_related("incident")
            .filter(token=token)
            .first()
        )
        if first is None or first.user_id != actor.user_id:
            raise AlreadySubmitted(
                "This form was already sent. Check it and send it again."
            ) from None
        return first.incident, False


def incident_answer(
    *,
    incident: Incident,
    actor: Actor,
    action: str,
    expected_version: int,
    rating: int | None = None,
    comment: str = "",
    reason: str = "",
) -> Incident:
    """The reporter answers a resolution: "fixed" closes it (rated), "broken" reopens it. The
    reporter is the member who reported it or, by the link in their email, the contact without
    an account it was reported for (Actor.contact)."""
    if not is_reporter(actor, incident):
        raise NotAllowed("Only the person who reported the incident can confirm or reopen it.")
    if action == "fixed":
        return incident_close(
            incident=incident,
            actor=actor,
            rating=rating,
            comment=comment,
            on_reporters_word=True,
            expected_version=expected_version,
        )
    if action == "broken":
        return incident_reopen(
            incident=incident, actor=actor, reason=reason, expected_version=expected_version
        )
    raise InvalidInput("Answer with fixed or broken.")


def incident_emails_set(*, incident: Incident, address: str, muted: bool) -> None:
    """Stop (or restart) the emails about one incident to one address."""
    address = address.lower()
    mutes = IncidentMute.objects.for_tenant(incident.tenant_id).filter(incident=incident)
    if muted:
        mutes.get_or_create(tenant_id=incident.tenant_id, incident=incident, address=address)
    else:
        mutes.filter(address=address).delete()
