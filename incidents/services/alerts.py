"""Alert intake for monitoring tools: one open incident per dedup_key, however many triggers."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from incidents.models import AlertSource, Category, EventKind, Incident
from incidents.services.common import record_event
from incidents.services.report import incident_report
from incidents.services.transitions import incident_resolve
from tenancy.actors import Actor
from tenancy.errors import InvalidInput

DEFAULT_RESOLUTION_CODE = "solved-permanently"


class TriggerContention(InvalidInput):
    """Triggers of one new key kept racing: the caller may retry (an integration answers 429)."""


def _active_source(actor: Actor, dedup_key: str) -> AlertSource | None:
    return (
        AlertSource.objects.for_tenant(actor.tenant)
        .select_for_update()
        .filter(dedup_key=dedup_key, active=True)
        .first()
    )


def _check_key(dedup_key: str) -> str:
    dedup_key = (dedup_key or "").strip()
    if not dedup_key or len(dedup_key) > 255:
        raise InvalidInput("dedup_key is required (1 to 255 characters).", field="dedup_key")
    return dedup_key


@transaction.atomic
def alert_trigger(
    *,
    actor: Actor,
    dedup_key: str,
    summary: str,
    details: str = "",
    impact: str = "medium",
    urgency: str = "medium",
    category: Category | None = None,
) -> tuple[Incident, bool]:
    """The open incident for the key (with an event added) or a new one; True when new."""
    dedup_key = _check_key(dedup_key)
    for _ in range(3):
        source = _active_source(actor, dedup_key)
        if source is not None and source.incident is not None and source.incident.is_open:
            return _retrigger(actor, source, source.incident, summary, details), False
        if source is not None:
            source.active = False  # its incident was closed or cancelled: a new outage
            source.save(update_fields=["active"])
        try:
            with transaction.atomic():
                source = AlertSource.objects.create(tenant=actor.tenant, dedup_key=dedup_key)
        except IntegrityError:
            continue  # a concurrent trigger won the insert; its committed row is found next turn
        incident = incident_report(
            actor=actor,
            title=summary,
            description=details,
            impact=impact,
            urgency=urgency,
            category=category,
        )
        source.incident = incident
        source.save(update_fields=["incident"])
        return incident, True
    raise TriggerContention(
        "Too many concurrent triggers for this dedup_key; retry.", field="dedup_key"
    )


def _retrigger(
    actor: Actor, source: AlertSource, incident: Incident, summary: str, details: str
) -> Incident:
    """Another trigger of the source's open incident (`incident`, the source's own)."""
    AlertSource.objects.for_tenant(actor.tenant).filter(pk=source.pk).update(
        trigger_count=F("trigger_count") + 1, last_seen_at=timezone.now()
    )
    record_event(
        incident,
        actor=actor,
        kind=EventKind.ALERT,
        reason=summary[:500],
        data={"dedup_key": source.dedup_key, "action": "trigger", "details": details[:2000]},
        public=False,
    )
    return incident


@transaction.atomic
def alert_resolve(
    *, actor: Actor, dedup_key: str, summary: str = "", resolution_code: str = ""
) -> Incident | None:
    """Resolve the open incident of the key; None when there is none."""
    dedup_key = _check_key(dedup_key)
    source = _active_source(actor, dedup_key)
    if source is None or source.incident is None:
        return None
    notes = "Resolved by the monitoring tool" + (f": {summary}" if summary else ".")
    incident = incident_resolve(
        incident=source.incident,
        actor=actor,
        resolution_code=resolution_code or DEFAULT_RESOLUTION_CODE,
        resolution_notes=notes,
    )
    source.active = False
    source.save(update_fields=["active"])
    return incident


def _open_source_incident(actor: Actor, dedup_key: str) -> tuple[AlertSource, Incident] | None:
    source = _active_source(actor, _check_key(dedup_key))
    if source is None or source.incident is None or not source.incident.is_open:
        return None
    return source, source.incident


@transaction.atomic
def alert_acknowledge(*, actor: Actor, dedup_key: str, summary: str = "") -> Incident | None:
    """The monitoring tool says someone is on it: the incident is acknowledged (which stops an
    escalation climb, as an acknowledgement from the desk does); None when none is open."""
    found = _open_source_incident(actor, dedup_key)
    if found is None:
        return None
    source, incident = found
    if incident.acknowledged_at is None:
        incident.acknowledged_at = timezone.now()
        Incident.objects.for_tenant(actor.tenant).filter(pk=incident.pk).update(
            acknowledged_at=incident.acknowledged_at
        )
    _alert_event(actor, incident, source, "acknowledge", summary or "Acknowledged.")
    return incident


@transaction.atomic
def alert_note(*, actor: Actor, dedup_key: str, summary: str = "") -> Incident | None:
    """The monitoring tool says the alert ended, and the integration leaves resolving to people:
    an internal event on the open incident; None when none is open."""
    found = _open_source_incident(actor, dedup_key)
    if found is None:
        return None
    source, incident = found
    text = "The monitoring tool reports the alert resolved" + (f": {summary}" if summary else ".")
    _alert_event(actor, incident, source, "resolved", text)
    return incident


def _alert_event(
    actor: Actor, incident: Incident, source: AlertSource, action: str, reason: str
) -> None:
    record_event(
        incident,
        actor=actor,
        kind=EventKind.ALERT,
        reason=reason[:500],
        data={"dedup_key": source.dedup_key, "action": action},
        public=False,
    )
