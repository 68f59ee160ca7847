"""The desk's automatic answers to mail, rationed: one of a kind per sender and window."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from mail.models import AutoAnswer, IntakeAddress
from tenancy.hooks import mail_queued
from tenancy.models import Tenant


def may_answer(*, tenant: Tenant, address: str, kind: str, incident_id: int | None = None) -> bool:
    """Record an automatic answer unless one of this kind went to this address (about this
    incident) within MAIL_AUTO_ANSWER_WINDOW_HOURS; True when this one may go."""
    since = timezone.now() - timedelta(hours=settings.MAIL_AUTO_ANSWER_WINDOW_HOURS)
    recent = AutoAnswer.objects.for_tenant(tenant).filter(
        address=address.lower(), kind=kind, incident_id=incident_id, sent_at__gte=since
    )
    if recent.exists():
        return False
    AutoAnswer.objects.create(
        tenant=tenant, address=address.lower(), kind=kind, incident_id=incident_id
    )
    return True


def refusal_answer(*, tenant: Tenant, address: str, intake: IntakeAddress) -> bool:
    """One polite explanation to a sender the tenant's policy refuses, at most one a window."""
    if not may_answer(tenant=tenant, address=address, kind="mail_refused"):
        return False
    context = {"tenant": tenant, "intake": intake, "address": address}
    subject = render_to_string("mail/email/refused_subject.txt", context)
    mail_queued.send(
        tenant=tenant,
        kind="mail_refused",
        address=address,
        subject=" ".join(subject.split()),
        body=render_to_string("mail/email/refused.txt", context),
    )
    return True
