"""Incidents at a chosen share of their SLA clocks, for the "Breaching soon" tests: every level
of acme gets round-the-clock targets (1 h to respond, 10 h to resolve) and one warning at 75%,
so "48 minutes ago" is 80% of the response clock whatever the day of the week."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from escalation.selectors.sla import sla_policies_for_tenant
from escalation.services.config import sla_policy_save
from escalation.services.defaults import around_the_clock_calendar
from escalation.services.sweep import sweep_due
from incidents.models import Incident
from tests.desk.desk_support import report

RESPONSE = timedelta(hours=1)
RESOLUTION = timedelta(hours=10)
WARN_PERCENT = 75


def round_the_clock_targets(people) -> None:
    """Through the SLA settings service, as an admin would set them."""
    calendar = around_the_clock_calendar(people.acme)
    for policy in sla_policies_for_tenant(people.acme):
        sla_policy_save(
            actor=people.actor(people.ada),
            policy=policy,
            values={
                "calendar": calendar,
                "response_seconds": int(RESPONSE.total_seconds()),
                "resolution_seconds": int(RESOLUTION.total_seconds()),
                "warn_percents": [WARN_PERCENT],
                "pause_on": ["awaiting_caller"],
            },
        )


def reported_ago(people, title: str, ago: timedelta, **fields) -> Incident:
    """Reported `ago` before now, through incident_report; the sweep then fires what is due."""
    with time_machine.travel(timezone.now() - ago, tick=False):
        incident = report(people, title, **fields)
    sweep_due()
    return incident
