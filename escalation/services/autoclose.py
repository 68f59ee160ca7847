"""Closing resolved incidents whose reporter did not answer within the confirmation window
(the tenant's number of business days of its default calendar)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from escalation.calendars import CalendarError, add_business_days
from escalation.services.defaults import calendar_spec, default_calendar
from incidents.models import Incident, IncidentState
from incidents.services import incident_close
from tenancy.actors import Actor
from tenancy.errors import Refusal
from tenancy.models import Tenant

log = logging.getLogger(__name__)


def confirmation_deadline(tenant: Tenant, resolved_at: datetime, spec=None) -> datetime:
    spec = spec or calendar_spec(default_calendar(tenant))
    return add_business_days(spec, resolved_at, tenant.confirmation_window_days)


def _due_in_tenant(tenant: Tenant, now: datetime, limit: int) -> list[Incident]:
    # N business days are at least N calendar days: only those can be due, found by index.
    earliest = now - timedelta(days=tenant.confirmation_window_days)
    candidates = (
        Incident.objects.for_tenant(tenant)
        .filter(state=IncidentState.RESOLVED, resolved_at__lte=earliest)
        .order_by("resolved_at")[:limit]
    )
    spec = calendar_spec(default_calendar(tenant))
    return [i for i in candidates if confirmation_deadline(tenant, i.resolved_at, spec) <= now]


def incidents_auto_close(*, now: datetime | None = None, limit: int = 200) -> int:
    """Close what is due, each by the system in its own transaction; returns how many."""

    now = now or timezone.now()
    closed = 0
    for tenant in Tenant.objects.filter(is_active=True):
        try:
            due = _due_in_tenant(tenant, now, limit)
        except CalendarError as exc:
            log.error("auto-close skipped for %s: %s", tenant.slug, exc)
            continue
        actor = Actor.system(tenant, "Confirmation window")
        for incident in due:
            try:
                incident_close(
                    incident=incident,
                    actor=actor,
                    comment=f"No answer within {tenant.confirmation_window_days} business days.",
                )
                closed += 1
            except Refusal as exc:  # reopened or closed meanwhile: nothing to do
                log.info("auto-close of %s skipped: %s", incident.reference, exc.message)
    return closed
