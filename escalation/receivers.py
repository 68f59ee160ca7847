"""What escalation does at the moments the lower layers name (tenancy/hooks.py, incidents/hooks.py):
the SLA clocks follow the incident, a routed report alerts its holder and starts the climb,
subscribers hear of the incident's events, the people who hold, follow or are mentioned on an
incident are told (services/told.py), and mail goes through the outbox. Connected once,
in EscalationConfig.ready()."""

from __future__ import annotations

from typing import Any

from escalation.calendars import CalendarSpec
from escalation.models import SlaPolicy, WebhookEndpoint
from escalation.services import clocks
from escalation.services.climb import ClimbStart, assigned_alert, climb_begin, climb_start_for
from escalation.services.defaults import calendar_spec, sla_defaults_install, sla_policy_for
from escalation.services.outbox import notification_enqueue
from escalation.services.told import incident_told
from escalation.services.webhooks import subscribed_endpoints, webhook_incident_event_emit
from incidents import hooks as incident_hooks
from incidents.models import Incident, PriorityLevel
from incidents.services.tenant_config import ReportConfig
from tenancy import hooks as tenancy_hooks
from tenancy.actors import Actor

# --- What a report reads, kept in its configuration's memo (incidents/services/tenant_config.py)


def report_sla(config: ReportConfig, level: PriorityLevel) -> tuple[SlaPolicy, CalendarSpec]:
    """The level's policy (created on first use for a level added since install) and its
    calendar."""

    def load() -> tuple[SlaPolicy, CalendarSpec]:
        policy = sla_policy_for(level)
        return policy, calendar_spec(policy.calendar)

    return config.memo(("sla", level.pk), load)


def report_climb(config: ReportConfig, group_id: int | None) -> ClimbStart | None:
    found = config.memo(("climb", group_id), lambda: (climb_start_for(config.tenant.pk, group_id),))
    return found[0]  # in a tuple: no policy is a finding worth keeping too


def report_webhooks(config: ReportConfig, event: str) -> list[WebhookEndpoint]:
    return config.memo(
        ("webhooks", event), lambda: subscribed_endpoints(tenant=config.tenant, event=event)
    )


# --- Receivers ------------------------------------------------------------------------------


def on_reported(
    *, incident: Incident, config: ReportConfig, route_actor: Actor | None, group_id: int | None
) -> None:
    policy, spec = report_sla(config, incident.priority)
    clocks.clocks_start(incident=incident, policy=policy, spec=spec)
    if route_actor is not None:
        escalated_at = incident.escalated_at
        assert escalated_at is not None  # a routed report is written escalated
        assigned_alert(incident=incident, actor=route_actor, now=escalated_at)
        climb_begin(incident=incident, start=report_climb(config, group_id), now=escalated_at)


def on_event(
    *,
    incident: Incident,
    event: str,
    actor: Actor,
    data: dict[str, Any] | None,
    config: ReportConfig | None,
) -> None:
    endpoints = report_webhooks(config, event) if config is not None else None
    webhook_incident_event_emit(
        incident=incident, event=event, actor=actor, data=data, endpoints=endpoints
    )


def on_transitioned(*, incident: Incident, transition: str, actor: Actor) -> None:
    clocks.clocks_follow_transition(incident=incident, transition=transition, actor=actor)


def on_retargeted(*, incident: Incident, actor: Actor, reason: str) -> None:
    clocks.clocks_retarget(incident=incident, actor=actor, reason=reason)


def on_many_retargeted(*, actor: Actor, incident_ids: list[int]) -> None:
    clocks.clocks_retarget_many(actor=actor, incident_ids=incident_ids)


def on_reassigned(*, incident: Incident, actor: Actor) -> None:
    clocks.clocks_reassigned(incident=incident, actor=actor)


def on_acknowledged(*, incident: Incident) -> None:
    clocks.clocks_acknowledge(incident=incident)


def connect() -> None:
    incident_hooks.incident_reported.connect(on_reported)
    incident_hooks.incident_event.connect(on_event)
    incident_hooks.incident_event.connect(incident_told)  # the holder, followers, mentions
    incident_hooks.incident_transitioned.connect(on_transitioned)
    incident_hooks.incident_retargeted.connect(on_retargeted)
    incident_hooks.incidents_retargeted.connect(on_many_retargeted)
    incident_hooks.incident_reassigned.connect(on_reassigned)
    incident_hooks.incident_acknowledged.connect(on_acknowledged)
    tenancy_hooks.tenant_provisioned.connect(sla_defaults_install)
    tenancy_hooks.mail_queued.connect(notification_enqueue)
