"""Reporting: the one entry service every path (portal, API, alert intake, import) calls."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from incidents.hooks import incident_event, incident_reported
from incidents.models import AssignmentGroup, Category, EventKind, Incident, IncidentEvent
from incidents.notifications import notify_incident_people
from incidents.numbering import numbering_later
from incidents.services.common import check_member, event_row
from incidents.services.priority import check_level
from incidents.services.routing import auto_assignee
from incidents.services.tenant_config import ReportConfig, report_config
from incidents.services.transitions import (
    escalation_changes,
    escalation_data,
    transition_webhook,
)
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import Tenant, User
from tenancy.services import counter_next

TITLE_MAX = 200
CONTACT_NAME_MAX = 150
EMAIL_MAX = 254
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


def _check_reporter(actor: Actor, reporter: User | None) -> User | None:
    """Staff and integrations report on someone's behalf; a requester only for themselves."""
    if reporter is None:
        return actor.user if actor.kind == "member" else None
    if actor.is_requester and reporter.pk != actor.user_id:
        raise NotAllowed("You can only report incidents in your own name.")
    check_member(actor, reporter, field="reporter")
    return reporter


def _clean_contact(name: str, email: str) -> tuple[str, str]:
    name, email = (name or "").strip(), (email or "").strip()
    if len(name) > CONTACT_NAME_MAX:
        raise InvalidInput(
            f"The contact name is limited to {CONTACT_NAME_MAX} characters.", field="contact_name"
        )
    if email:
        try:
            validate_email(email)
            valid = len(email) <= EMAIL_MAX
        except ValidationError:
            valid = False
        if not valid:
            raise InvalidInput(f"{email[:100]} is not an email address.", field="contact_email")
    return name, email


@transaction.atomic
def incident_report(
    *,
    actor: Actor,
    title: str,
    description: str = "",
    impact: str = "medium",
    urgency: str = "medium",
    category: Category | None = None,
    category_slug: str | None = None,
    reporter: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
) -> Incident:
    """Create an incident, derive its priority, acknowledge the reporter and route it.

    The API names the category by its slug (`category_slug`), read with the rest of the
    tenant's configuration (incidents.services.tenant_config)."""
    title, description = _clean_text(title, description)
    check_level(impact, "impact")
    check_level(urgency, "urgency")
    _check_category(actor, category)
    reporter = _check_reporter(actor, reporter)
    contact_name, contact_email = _clean_contact(contact_name, contact_email)
    tenant = actor.tenant
    config = report_config(tenant)  # the shared lock that keeps the matrix until commit
    if category_slug:
        category = config.category(category_slug)
        if category is None:
            raise InvalidInput(f"No active category {category_slug!r} here.", field="category")
    level = config.level(impact, urgency)
    route = _route(tenant, category)
    # The number last: taking it holds the tenant's counter until commit, and concurrent
    # reports queue there. What shows the number waits for it (incidents.numbering).
    with numbering_later() as give_number:
        now = timezone.now()
        incident = Incident(
            tenant=tenant,
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
        data = {"impact": impact, "urgency": urgency, "priority": level.slug}
        events = [
            event_row(
                actor=actor,
                incident=incident,
                kind=EventKind.REPORTED,
                to_state=incident.state,
                data=data,
            )
        ]
        incident_event.send(
            incident=incident, event="incident.created", actor=actor, data=None, config=config
        )
        if route is not None:
            events.append(_escalate_new(incident, route, config))
        # The incident row goes last, with its number: its other rows are written first under
        # an id taken in advance (the foreign keys are checked at commit), so the counter is
        # held only for that insert, and no UPDATE rewrites the row and its many indexes.
        incident.pk = _next_incident_id()
        IncidentEvent.objects.bulk_create(events)
        notify_incident_people(incident, "acknowledgement", new=True)
        incident_reported.send(  # SLA clocks; a routed one's alert and climb
            incident=incident,
            config=config,
            route_actor=route.actor if route else None,
            group_id=route.group.pk if route else None,
        )
        incident.number = counter_next(tenant=tenant, name="incident")
        incident.save(force_insert=True)
        give_number(incident.number)
    return incident


@dataclass(frozen=True)
class Route:
    group: AssignmentGroup
    assignee: User | None
    actor: Actor
    reason: str


def _route(tenant: Tenant, category: Category | None) -> Route | None:
    """A category's routing rule escalates to its group; without one it waits in Unassigned."""
    group = category.group if category else None
    if category is None or group is None or not group.is_active:
        return None
    return Route(
        group=group,
        assignee=auto_assignee(group) if group.auto_assign else None,
        actor=Actor.system(tenant, "Routing"),
        reason=f"Routing rule of category {category.name}",
    )


def _escalate_new(incident: Incident, route: Route, config: ReportConfig) -> IncidentEvent:
    """Escalate the incident before its first write, as incident_escalate would have done right
    after it: the same fields, event and webhook (the report then adds the alert and the
    climb; the acknowledgement says where it goes, so no escalation email), so that one
    INSERT does what took an INSERT and an UPDATE."""
    from_state = incident.state
    data = escalation_data(incident, route.group, route.assignee, "functional")
    incident.escalate()
    for field, value in escalation_changes(incident, route.group, route.assignee).items():
        setattr(incident, field, value)
    incident.version += 1
    # escalation_changes stamps escalated_at on an incident's first escalation, as this one is.
    assert incident.escalated_at is not None
    incident.updated_at = incident.escalated_at
    transition_webhook(
        incident,
        "escalate",
        from_state=from_state,
        actor=route.actor,
        reason=route.reason,
        config=config,
    )
    return event_row(
        actor=route.actor,
        incident=incident,
        kind=EventKind.TRANSITION,
        transition="escalate",
        from_state=from_state,
        to_state=incident.state,
        reason=route.reason,
        data=data,
    )


def _next_incident_id() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence('incidents_incident', 'id'))")
        else:  # SQLite: one writer at a time (BEGIN IMMEDIATE), so the next id is free
            cursor.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM incidents_incident")
        return cursor.fetchone()[0]
