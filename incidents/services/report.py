"""Reporting: the one entry service every path (portal, API, alert intake, import) calls."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from escalation.services import clocks as sla_clocks

from incidents.errors import InvalidInput
from incidents.models import Category, EventKind, Incident
from incidents.notifications import notify_incident_people
from incidents.services.common import record_event
from incidents.services.priority import check_level, priority_derive
from incidents.services.routing import auto_assignee
from tenancy.actors import Actor
from tenancy.models import User
from tenancy.services import counter_next

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000


def _clean_text(title: str, description: str) -> tuple[str, str]:
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Give the incident a short title.", field="title")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"The title is limited to {TITLE_MAX} characters.", field="title")
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"The description is limited to {DESCRIPTION_MAX:,} characters "
            f"(this one has {len(description):,}).",
            field="description",
        )
    return title, description


def _check_category(actor: Actor, category: Category | None) -> None:
    if category is not None and (category.tenant_id != actor.tenant.pk or not category.is_active):
        raise InvalidInput("Choose one of the categories offered.", field="category")


@transaction.atomic
def incident_report(
    *,
    actor: Actor,
    title: str,
    description: str = "",
    impact: str = "medium",
    urgency: str = "medium",
    category: Category | None = None,
    reporter: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
) -> Incident:
    """Create an incident, derive its priority, acknowledge the reporter and route it."""
    title, description = _clean_text(title, description)
    check_level(impact, "impact")
    check_level(urgency, "urgency")
    _check_category(actor, category)
    if reporter is None and actor.kind == "member":
        reporter = actor.user
    tenant = actor.tenant
    level = priority_derive(tenant=tenant, impact=impact, urgency=urgency)
    now = timezone.now()
    incident = Incident.objects.create(
        tenant=tenant,
        number=counter_next(tenant=tenant, name="incident"),
        title=title,
        description=description,
        impact=impact,
        urgency=urgency,
        priority=level,
        priority_rank=level.rank,
        category=category,
        reporter=reporter,
        contact_name=contact_name,
        contact_email=contact_email,
        reported_at=now,
        updated_at=now,
    )
    record_event(
        incident,
        actor=actor,
        kind=EventKind.REPORTED,
        to_state=incident.state,
        data={"impact": impact, "urgency": urgency, "priority": level.slug},
    )
    notify_incident_people(incident, "acknowledgement")
    sla_clocks.clocks_start(incident=incident)  # SLA: response and resolution clocks
    return _route(incident)


def _route(incident: Incident) -> Incident:
    """A category's routing rule escalates to its group; without one it waits in Unassigned."""
    group = incident.category.group if incident.category else None
    if group is None or not group.is_active:
        return incident
    from incidents.services.transitions import incident_escalate

    assignee = auto_assignee(group) if group.auto_assign else None
    return incident_escalate(
        incident=incident,
        actor=Actor.system(incident.tenant, "Routing"),
        group=group,
        assignee=assignee,
        reason=f"Routing rule of category {incident.category.name}",
    )
