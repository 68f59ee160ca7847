"""Reporting: the one entry service every path (portal, API, alert intake, import) calls."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from escalation.services import clocks as sla_clocks
from escalation.webhooks import webhook_incident_event_emit
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import Category, EventKind, Incident
from incidents.notifications import notify_incident_people
from incidents.numbering import numbering_later
from incidents.services.common import check_member, record_event
from incidents.services.priority import check_level, hold_matrix, priority_derive
from incidents.services.routing import auto_assignee
from tenancy.actors import Actor
from tenancy.models import User
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
    reporter: User | None = None,
    contact_name: str = "",
    contact_email: str = "",
) -> Incident:
    """Create an incident, derive its priority, acknowledge the reporter and route it."""
    title, description = _clean_text(title, description)
    check_level(impact, "impact")
    check_level(urgency, "urgency")
    _check_category(actor, category)
    reporter = _check_reporter(actor, reporter)
    contact_name, contact_email = _clean_contact(contact_name, contact_email)
    tenant = actor.tenant
    hold_matrix(tenant)
    level = priority_derive(tenant=tenant, impact=impact, urgency=urgency)
    now = timezone.now()
    # The number last: taking it holds the tenant's counter until commit, and concurrent
    # reports queue there. What shows the number waits for it (incidents.numbering).
    with numbering_later() as give_number:
        incident = Incident.objects.create(
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
        record_event(
            incident,
            actor=actor,
            kind=EventKind.REPORTED,
            to_state=incident.state,
            data={"impact": impact, "urgency": urgency, "priority": level.slug},
        )
        notify_incident_people(incident, "acknowledgement", new=True)
        sla_clocks.clocks_start(incident=incident)  # SLA: response and resolution clocks
        webhook_incident_event_emit(incident=incident, event="incident.created", actor=actor)
        incident = _route(incident)
        number = counter_next(tenant=tenant, name="incident")
        Incident.objects.for_tenant(tenant).filter(pk=incident.pk).update(number=number)
        incident.number = number
        give_number(number)
    return incident


def _route(incident: Incident) -> Incident:
    """A category's routing rule escalates to its group; without one it waits in Unassigned."""
    category = incident.category
    group = category.group if category else None
    if category is None or group is None or not group.is_active:
        return incident
    from incidents.services.transitions import incident_escalate

    assignee = auto_assignee(group) if group.auto_assign else None
    return incident_escalate(
        incident=incident,
        actor=Actor.system(incident.tenant, "Routing"),
        group=group,
        assignee=assignee,
        reason=f"Routing rule of category {category.name}",
        notify=False,  # the acknowledgement just sent says where it goes
    )
