"""Following an incident, and choosing which mails one gets: a member's own settings."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from escalation.models import IncidentWatcher, MailPreferences
from incidents.models import Incident
from tenancy.actors import Actor
from tenancy.errors import NotAllowed


def _check_agent(actor: Actor) -> None:
    if actor.user_id is None or not actor.is_agent_or_above or actor.is_system:
        raise NotAllowed("Only the desk's agents can follow incidents.")


def incident_watch(*, incident: Incident, actor: Actor) -> IncidentWatcher:
    """Follow: told of its replies, notes and state changes by others. Twice is once."""
    _check_agent(actor)
    if incident.tenant_id != actor.tenant.pk:
        raise NotAllowed("No such incident here.")
    rows = IncidentWatcher.objects.for_tenant(actor.tenant)
    try:
        with transaction.atomic():  # a second click racing the first finds its row
            return rows.create(tenant=actor.tenant, incident=incident, user=actor.user)
    except IntegrityError:
        return rows.get(incident=incident, user_id=actor.user_id)


def incident_unwatch(*, incident: Incident, actor: Actor) -> bool:
    """Stop following; False when one was not following."""
    _check_agent(actor)
    rows = IncidentWatcher.objects.for_tenant(actor.tenant)
    deleted, _ = rows.filter(incident=incident, user_id=actor.user_id).delete()
    return deleted > 0


@transaction.atomic
def mail_preferences_set(
    *, actor: Actor, my_incidents: bool, group_queue: bool, mentions: bool, sla_alerts: bool
) -> MailPreferences:
    """The signed-in member's own choice of mails (the bell keeps showing everything)."""
    if actor.membership is None:
        raise NotAllowed("Only a member of this desk has mail choices.")
    choices, _ = MailPreferences.objects.for_tenant(actor.tenant).update_or_create(
        membership=actor.membership,
        defaults={
            "tenant": actor.tenant,
            "my_incidents": my_incidents,
            "group_queue": group_queue,
            "mentions": mentions,
            "sla_alerts": sla_alerts,
            "updated_at": timezone.now(),
        },
    )
    return choices
