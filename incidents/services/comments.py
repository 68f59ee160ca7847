"""Public replies, internal notes and attachments."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from incidents.errors import FileTooLarge, FileTypeRefused
from incidents.hooks import incident_acknowledged, incident_event
from incidents.models import (
    Attachment,
    Comment,
    EventKind,
    HoldReason,
    Incident,
    IncidentState,
)
from incidents.notifications import notify_incident_people
from incidents.rules import is_reporter, takes_part
from incidents.services.common import lock_incident, record_event, save_incident
from incidents.services.conflicts import TALK
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed

COMMENT_MAX = 20_000
# The system actor that resumes an incident after the caller's reply; those told of the reply
# are not told of this resume again (escalation/services/told.py).
CALLER_REPLIED = "Caller replied"


def _can_take_part(actor: Actor, incident: Incident) -> bool:
    """The desk, the reporter (a member, or the contact it was reported for), an affected member
    or an affected contact; a contact writes public replies only (notes are the desk's)."""
    return takes_part(actor, incident)


def check_attachment(upload: UploadedFile) -> str:
    """The upload's content type, or a clear refusal of its size or type."""
    limit = settings.ATTACHMENT_MAX_BYTES
    name, size = upload.name or "", upload.size or 0
    if size > limit:
        raise FileTooLarge(
            f"{name} is {filesizeformat(size)}; files are limited to {filesizeformat(limit)}.",
            field="attachments",
        )
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        raise FileTypeRefused(
            f"{name}: this type of file is not accepted. Send images, PDF, text, CSV, "
            "ZIP, Word or Excel files.",
            field="attachments",
        )
    return content_type


@transaction.atomic
def comment_add(
    *,
    incident: Incident,
    actor: Actor,
    body: str,
    public: bool = True,
    files: list[UploadedFile] | None = None,
    expected_version: int | None = None,
) -> Comment:
    """Add a reply (public) or an internal note, with optional files.

    A first public reply by an agent acknowledges the incident; a reply by the caller resumes
    an incident held awaiting the caller.
    """
    body = (body or "").strip()
    files = files or []
    if not body and not files:
        raise InvalidInput("Write a message or attach a file.", field="body")
    if len(body) > COMMENT_MAX:
        raise InvalidInput(f"A message is limited to {COMMENT_MAX:,} characters.", field="body")
    types = [check_attachment(f) for f in files]
    # Talk never conflicts: the version only says which page the reply was written on.
    locked = lock_incident(incident, actor=actor, expected_version=expected_version, touch=TALK)
    if not _can_take_part(actor, locked):
        raise NotAllowed("You can only comment on incidents you reported or joined.")
    if not public and not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents can write internal notes.")
    if locked.is_final:
        raise InvalidInput(
            f"{locked.reference} is {locked.get_state_display().lower()}; report a new incident "
            "if the problem is back."
        )
    comment = Comment.objects.create(
        tenant_id=locked.tenant_id,
        incident=locked,
        author=actor.user,
        author_name=actor.name,
        body=body,
        public=public,
    )
    for upload, content_type in zip(files, types, strict=True):
        _store_attachment(locked, actor, upload, content_type, comment=comment, public=public)
    _after_comment(locked, actor, comment)
    return comment


def _after_comment(incident: Incident, actor: Actor, comment: Comment) -> None:
    changes = []
    # The desk answering the caller acknowledges; the system's notes and the caller do not.
    by_staff = actor.is_agent_or_above and not actor.is_system and not is_reporter(actor, incident)
    if comment.public and by_staff and incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
        changes.append("acknowledged_at")
    save_incident(incident, changes)  # every comment moves the version: the page is stale now
    record_event(
        incident,
        actor=actor,
        kind=EventKind.COMMENT if comment.public else EventKind.NOTE,
        reason=comment.body[:500],
        data={"comment_id": comment.pk, "attachments": comment.attachments.count()},
        public=comment.public,
    )
    if "acknowledged_at" in changes:
        incident_acknowledged.send(incident=incident)  # SLA: the response clock ends
    incident_event.send(
        incident=incident,
        event="incident.commented",
        actor=actor,
        data={"public": comment.public, "comment": {"id": comment.pk, "body": comment.body}},
        config=None,
    )
    if comment.public and actor.is_agent_or_above and not actor.is_system:
        notify_incident_people(incident, "reply", extra={"comment": comment})
    caller_replied = (
        comment.public
        and (is_reporter(actor, incident) or not actor.is_agent_or_above)
        and incident.state == IncidentState.ON_HOLD
        and incident.hold_reason == HoldReason.AWAITING_CALLER
    )
    if caller_replied:
        from incidents.services.transitions import incident_resume

        incident_resume(
            incident=incident,
            actor=Actor.system(incident.tenant, CALLER_REPLIED),
            note=f"{actor.name} replied",
        )


def _store_attachment(
    incident: Incident,
    actor: Actor,
    upload: UploadedFile,
    content_type: str,
    *,
    comment: Comment | None,
    public: bool,
) -> Attachment:
    return Attachment.objects.create(
        tenant_id=incident.tenant_id,
        incident=incident,
        comment=comment,
        file=upload,
        name=(upload.name or "")[:255],
        size=upload.size or 0,
        content_type=content_type,
        public=public,
        uploaded_by=actor.user,
    )


@transaction.atomic
def attachment_add(
    *,
    incident: Incident,
    actor: Actor,
    upload: UploadedFile,
    public: bool = True,
    expected_version: int | None = None,
) -> Attachment:
    content_type = check_attachment(upload)
    locked = lock_incident(incident, actor=actor, expected_version=expected_version, touch=TALK)
    if not _can_take_part(actor, locked):
        raise NotAllowed("You can only add files to incidents you reported or joined.")
    if not public and not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents can attach internal files.")
    if locked.is_final:
        raise InvalidInput(
            f"{locked.reference} is {locked.get_state_display().lower()}; files can no longer "
            "be added."
        )
    attachment = _store_attachment(locked, actor, upload, content_type, comment=None, public=public)
    save_incident(locked, [])
    record_event(
        locked,
        actor=actor,
        kind=EventKind.ATTACHMENT,
        data={"attachment_id": attachment.pk, "name": attachment.name, "size": attachment.size},
        public=public,
    )
    return attachment
