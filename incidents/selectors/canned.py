"""Reads of canned responses: which ones an actor may use or see, and their text filled in for an
incident."""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from incidents.models import CannedResponse, Incident
from incidents.models.canned import fill_placeholders
from tenancy.actors import Actor
from tenancy.inputs import whole_number
from tenancy.models import Tenant


def canned_responses_for_actor(*, actor: Actor) -> QuerySet[CannedResponse]:
    """What the actor may use: the tenant's responses and their own. A requester has none; an
    API key (no person) sees the tenant's only. Tenant's first, then by name."""
    rows = CannedResponse.objects.for_tenant(actor.tenant)
    if not actor.is_agent_or_above:
        return rows.none()
    visible = Q(owner__isnull=True)
    if actor.user_id is not None:
        visible |= Q(owner_id=actor.user_id)
    return rows.filter(visible).order_by(F("owner_id").asc(nulls_first=True), Lower("name"))


def canned_response_for_actor(*, actor: Actor, pk: int | str) -> CannedResponse:
    """One response the actor may use; another agent's personal one, another tenant's and a
    missing one are the same 404."""
    number = whole_number(str(pk))
    found = None
    if number is not None:
        found = canned_responses_for_actor(actor=actor).filter(pk=number).first()
    if found is None:
        raise Http404("No such canned response here.")
    return found


def canned_responses_of_tenant(tenant: Tenant) -> QuerySet[CannedResponse]:
    return (
        CannedResponse.objects.for_tenant(tenant).filter(owner__isnull=True).order_by(Lower("name"))
    )


def canned_responses_of_user(*, actor: Actor) -> QuerySet[CannedResponse]:
    return (
        CannedResponse.objects.for_tenant(actor.tenant)
        .filter(owner_id=actor.user_id)
        .order_by(Lower("name"))
    )


def _first_word(name: str) -> str:
    return name.split()[0] if name.split() else name


def placeholder_values(*, incident: Incident, actor: Actor) -> dict[str, str]:
    """What each placeholder becomes on this incident, for this agent. The incident comes with
    its related rows (incident_for_actor), so this reads nothing more."""
    reporter = incident.reporter
    requester = reporter.display_name if reporter else (incident.contact_name or "")
    requester = requester or incident.contact_email
    return {
        "requester_name": requester,
        "requester_first_name": _first_word(requester),
        "requester_email": reporter.email if reporter else incident.contact_email,
        "number": incident.reference,
        "title": incident.title,
        "state": incident.get_state_display(),
        "priority": incident.priority.label,
        "category": incident.category.name if incident.category else "",
        "group": incident.group.name if incident.group else "",
        "assignee_name": incident.assignee.display_name if incident.assignee else "",
        "agent_name": actor.name,
        "agent_first_name": _first_word(actor.name),
        "organisation": actor.tenant.name,
    }


def canned_responses_filled(*, actor: Actor, incident: Incident) -> list[dict[str, object]]:
    """The responses the agent may use, each with its text filled in for the incident."""
    values = placeholder_values(incident=incident, actor=actor)
    return [
        {"response": r, "text": fill_placeholders(r.body, values)}
        for r in canned_responses_for_actor(actor=actor)
    ]
