"""Helpers shared by the desk's tests: incidents made through the real services, and the URLs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone

from escalation.models import SlaClock
from incidents import services
from incidents.models import Incident


def report(people, title: str = "Printer jammed", *, by=None, **fields) -> Incident:
    """A new incident reported by rita (or `by`), through incident_report."""
    actor = people.actor(by or people.rita)
    return services.incident_report(actor=actor, title=title, **fields)


def routed(people, title: str = "VPN drops", **fields) -> Incident:
    """Reported in the Network category: routing escalates it to people.group, unassigned."""
    return report(people, title, category=people.network, **fields)


def age(incident: Incident, minutes: int) -> Incident:
    """Pretend the incident was reported `minutes` ago (test data only: a report time)."""
    when = timezone.now() - timedelta(minutes=minutes)
    Incident.objects.filter(pk=incident.pk).update(reported_at=when)
    incident.refresh_from_db()
    return incident


def number_of(incident: Incident) -> int:
    """The number of a reported incident (only the report's own copy is unnumbered, and only
    until its insert)."""
    assert incident.number is not None, "a reported incident has its number"
    return incident.number


def due_of(clock: SlaClock) -> datetime:
    """The due time of a clock that is counting (only a paused or stopped clock has none)."""
    assert clock.due_at is not None, f"the {clock.metric} clock is not counting"
    return clock.due_at


def queue_url(people, **params) -> str:
    base = reverse("desk-queue", kwargs={"tenant_slug": people.acme.slug})
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{base}?{query}" if query else base


def detail_url(incident: Incident) -> str:
    return reverse(
        "desk-incident-detail",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number},
    )


def action_url(incident: Incident, action: str) -> str:
    return reverse(
        "desk-incident-action",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number, "action": action},
    )


ROW = re.compile(r'<tr data-number="(\d+)"')


def row_numbers(html: str) -> list[int]:
    """The incident numbers of the queue's rows, in the order shown."""
    return [int(n) for n in ROW.findall(html)]


def fresh(incident: Incident) -> Incident:
    return Incident.objects.select_related("priority", "group", "assignee").get(pk=incident.pk)


def bulk_incidents(tenant, count: int, *, title: str = "Bulk incident", **fields) -> None:
    """Many plain reported incidents at once, for planner and size tests (no events)."""
    from incidents.models import PriorityLevel
    from tenancy.models import TenantCounter

    level = PriorityLevel.objects.get(tenant=tenant, slug="medium")
    counter = TenantCounter.objects.get(tenant=tenant, name="incident")
    start = counter.value
    now = timezone.now()
    Incident.objects.bulk_create(
        Incident(
            tenant=tenant,
            number=start + n + 1,
            title=f"{title} {n}",
            priority=level,
            priority_rank=level.rank,
            reported_at=now - timedelta(minutes=n),
            updated_at=now,
            **fields,
        )
        for n in range(count)
    )
    counter.value = start + count
    counter.save(update_fields=["value"])
