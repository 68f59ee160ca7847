"""Helpers of the problems tests: incidents and problems made through the real services."""

from __future__ import annotations

from incidents import services as incidents
from incidents.models import Incident
from problems import services
from problems.models import Problem


def incident(people, title: str = "VPN drops every hour", *, by=None, **fields) -> Incident:
    """Reported by rita (or `by`) in Network: routing escalates it to the people's group."""
    fields.setdefault("category", people.network)
    actor = people.actor(by or people.rita)
    return incidents.incident_report(actor=actor, title=title, **fields)


def problem(people, *linked: Incident, title: str = "VPN concentrator drops tunnels") -> Problem:
    return services.problem_log(
        actor=people.actor(people.alice),
        title=title,
        owner=people.alice,
        group=people.group,
        incidents=linked,
    )


def known_error(people, p: Problem) -> Problem:
    return services.problem_record_known_error(
        problem=p,
        actor=people.actor(people.alice),
        root_cause="Firmware 4.2 leaks tunnel slots.",
        workaround="Reconnect the VPN client, then choose the Frankfurt gateway.",
    )
