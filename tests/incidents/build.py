"""Incidents in each state, built only through the services (nothing writes `state`), and one
call per transition with an actor whose role allows it, so only the state decides."""

from __future__ import annotations

from collections.abc import Callable

from incidents import services
from incidents.models import Incident, IncidentEvent
from tenancy.models import Membership, Role, User
from tests.factories import UserFactory

STATES = ("reported", "escalated", "diagnosing", "on_hold", "resolved", "closed", "cancelled")
TRANSITIONS = ("escalate", "accept", "hold", "resume", "resolve", "reopen", "close", "cancel")

# docs/design.md's table, written out again here so the tests do not read it from the code.
ALLOWED_FROM = {
    "escalate": {"reported", "escalated", "diagnosing"},
    "accept": {"escalated"},
    "hold": {"escalated", "diagnosing"},
    "resume": {"on_hold"},
    "resolve": {"escalated", "diagnosing", "on_hold"},
    "reopen": {"resolved"},
    "close": {"resolved"},
    "cancel": {"reported", "escalated", "diagnosing", "on_hold"},
}
# The ITIL preset as an admin would type it on the matrix page.
ITIL_SCALE = [
    ("critical", "Critical"),
    ("high", "High"),
    ("moderate", "Moderate"),
    ("low", "Low"),
    ("planning", "Planning"),
]
ITIL_MATRIX = {
    "high": {"high": "critical", "medium": "high", "low": "moderate"},
    "medium": {"high": "high", "medium": "moderate", "low": "low"},
    "low": {"high": "moderate", "medium": "low", "low": "planning"},
}
TARGET = {
    "escalate": "escalated",
    "accept": "diagnosing",
    "hold": "on_hold",
    "resume": "diagnosing",
    "resolve": "resolved",
    "reopen": "diagnosing",
    "close": "closed",
    "cancel": "cancelled",
}


def allowed_in(state: str) -> list[str]:
    return [name for name in TRANSITIONS if state in ALLOWED_FROM[name]]


def member(people, email: str, role: str, name: str = "") -> User:
    user = UserFactory.create(email=email, full_name=name or email.split("@")[0].title())
    Membership.objects.create(tenant=people.acme, user=user, role=role)
    return user


def requester(people, email: str = "ron@acme.test") -> User:
    return member(people, email, Role.REQUESTER)


def report(people, *, routed: bool = True, **fields) -> Incident:
    """Rita reports; with `routed` the Network category's rule escalates it to the group."""
    fields.setdefault("title", "VPN drops every hour")
    if routed:
        fields.setdefault("category", people.network)
    fields.setdefault("actor", people.actor(people.rita))
    return services.incident_report(**fields)


def incident_in(people, state: str) -> Incident:
    """An incident brought to `state` by the services, the way the desk would get there."""
    alice, rita = people.actor(people.alice), people.actor(people.rita)
    if state == "reported":
        return report(people, routed=False)
    if state == "cancelled":
        reported = report(people, routed=False)
        return services.incident_cancel(incident=reported, actor=alice, reason="Sent twice")
    incident = report(people)
    if state == "escalated":
        return incident
    incident = services.incident_accept(incident=incident, actor=alice)
    if state == "diagnosing":
        return incident
    if state == "on_hold":
        return services.incident_hold(
            incident=incident, actor=alice, hold_reason="awaiting_vendor", note="Ticket at ISP"
        )
    incident = resolve(incident, alice)
    if state == "resolved":
        return incident
    assert state == "closed", state
    return services.incident_close(incident=incident, actor=rita, rating=5)


def resolve(incident: Incident, actor) -> Incident:
    return services.incident_resolve(
        incident=incident,
        actor=actor,
        resolution_code="solved-permanently",
        resolution_notes="Replaced the router's configuration.",
    )


def transition_call(people, name: str) -> tuple[User, Callable[[Incident], Incident]]:
    """(the actor's user, a call running `name`) with a role the table allows for `name`."""
    alice, rita = people.actor(people.alice), people.actor(people.rita)
    calls: dict[str, tuple[User, Callable[[Incident], Incident]]] = {
        "escalate": (
            people.alice,
            lambda i: services.incident_escalate(
                incident=i, actor=alice, group=people.group, reason="Network issue"
            ),
        ),
        "accept": (people.alice, lambda i: services.incident_accept(incident=i, actor=alice)),
        "hold": (
            people.alice,
            lambda i: services.incident_hold(
                incident=i, actor=alice, hold_reason="awaiting_change", note="CAB on Monday"
            ),
        ),
        "resume": (people.alice, lambda i: services.incident_resume(incident=i, actor=alice)),
        "resolve": (people.alice, lambda i: resolve(i, alice)),
        "reopen": (
            people.rita,
            lambda i: services.incident_reopen(
                incident=i, actor=rita, reason="Dropped again this morning"
            ),
        ),
        "close": (people.rita, lambda i: services.incident_close(incident=i, actor=rita, rating=4)),
        "cancel": (
            people.alice,
            lambda i: services.incident_cancel(
                incident=i, actor=alice, reason="Reported by mistake"
            ),
        ),
    }
    return calls[name]


def snapshot(incident: Incident) -> tuple:
    """What a refused call must leave untouched: the stored row and its events."""
    row = Incident.objects.values().get(pk=incident.pk)
    events = list(
        IncidentEvent.objects.filter(incident_id=incident.pk).values_list("pk", flat=True)
    )
    return row, events
