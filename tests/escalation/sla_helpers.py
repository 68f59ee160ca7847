"""Helpers for the SLA tests: short targets, incidents at set times, the clocks of an incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from escalation.models import EscalationLevel, EscalationPolicy, Metric, SlaClock, SlaPolicy
from escalation.services.defaults import around_the_clock_calendar, sla_policy_for
from incidents import services
from incidents.models import Incident, PriorityLevel
from tenancy.models import User

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # acme's calendar is UTC, Mon-Fri 9-17


def move_to(traveller: time_machine.Traveller, **delta) -> None:
    """The clock_at traveller to MONDAY_10 + timedelta(**delta)."""
    traveller.move_to(MONDAY_10 + timedelta(**delta))


def clocks(incident: Incident) -> dict[str, SlaClock]:
    return {
        c.metric: c for c in SlaClock.objects.filter(incident=incident).select_related("calendar")
    }


def response(incident: Incident) -> SlaClock:
    return clocks(incident)[Metric.RESPONSE]


def resolution(incident: Incident) -> SlaClock:
    return clocks(incident)[Metric.RESOLUTION]


def short_targets(
    tenant, *, response: int, resolution: int, slug: str = "high", warn=(50, 80)
) -> SlaPolicy:
    """Around-the-clock targets in seconds for one level, so tests need not wait."""
    policy = sla_policy_for(PriorityLevel.objects.get(tenant=tenant, slug=slug))
    policy.calendar = around_the_clock_calendar(tenant)
    policy.response_seconds, policy.resolution_seconds = response, resolution
    policy.warn_percents = list(warn)
    policy.save()
    return policy


def report_high(people, **kwargs) -> Incident:
    """A high-priority incident about the network, routed to alice's and bob's group."""
    return services.incident_report(
        actor=people.actor(people.rita),
        title="VPN is down",
        impact="high",
        urgency="high",
        category=people.network,
        **kwargs,
    )


def fast_escalation(
    tenant, *levels: tuple[int, str, User | None], repeat: int = 0
) -> EscalationPolicy:
    """The tenant's only escalation policy: levels of (after seconds, notify, user)."""
    EscalationPolicy.objects.filter(tenant=tenant).delete()
    policy = EscalationPolicy.objects.create(tenant=tenant, name="Fast", repeat_count=repeat)
    EscalationLevel.objects.bulk_create(
        EscalationLevel(tenant=tenant, policy=policy, position=i, after_seconds=after,
                        notify=notify, user=user)
        for i, (after, notify, user) in enumerate(levels, start=1)
    )  # fmt: skip
    return policy
