"""Each alert an integration sends: through the generic intake's dedup/trigger service
(incidents/services/alerts.py), logged with its outcome, within the integration's rate limit."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents.intake.alerts import IncomingAlert
from incidents.intake.rules import match_rule
from incidents.models import AlertLog, AlertOutcome, Category, Incident, Integration
from incidents.services.alerts import (
    TriggerContention,
    alert_acknowledge,
    alert_note,
    alert_resolve,
    alert_trigger,
)
from tenancy.actors import Actor
from tenancy.api.throttling import WINDOW, _count
from tenancy.errors import Refusal
from tenancy.models import Role


@dataclass
class Outcome:
    outcome: str
    reason: str = ""
    incident: Incident | None = None


def integration_actor(integration: Integration) -> Actor:
    """Alerts act as an agent named after the integration (like an API key with write scope)."""
    return Actor(
        kind="integration",
        tenant=integration.tenant,
        role=Role.AGENT,
        name=integration.name[:150],
        api_key=integration,
    )


def scoped_key(integration: Integration, dedup_key: str) -> str:
    """Dedup keys are the integration's own: two tools sending the same key do not merge."""
    key = f"i{integration.pk}:{dedup_key}"
    if len(key) > 255:
        key = f"i{integration.pk}:sha256:{hashlib.sha256(dedup_key.encode()).hexdigest()}"
    return key


def rate_limited(integration: Integration, alerts: int = 1) -> float:
    """Seconds to wait when the integration is past INTEGRATION_ALERTS_PER_MINUTE, else 0."""
    limit = settings.INTEGRATION_ALERTS_PER_MINUTE
    if limit <= 0:
        return 0.0
    now = time.time()
    window = int(now // WINDOW)
    try:
        count = _count(f"ratelimit:integration:{integration.pk}:{window}")
    except Exception:  # a rate limiter that is down must not take the intake down
        return 0.0
    return max(1.0, (window + 1) * WINDOW - now) if count > limit else 0.0


def log_refused(integration: Integration, reason: str, alert: IncomingAlert | None = None) -> None:
    _log(integration, Outcome(AlertOutcome.REFUSED, reason), alert)


def _log(integration: Integration, outcome: Outcome, alert: IncomingAlert | None) -> None:
    AlertLog.objects.create(
        tenant=integration.tenant,
        integration=integration,
        outcome=outcome.outcome,
        reason=outcome.reason[:500],
        action=alert.action if alert else "",
        dedup_key=(alert.dedup_key if alert else "")[:255],
        summary=(alert.title if alert else "")[:300],
        incident=outcome.incident,
    )


def receive(integration: Integration, alert: IncomingAlert) -> Outcome:
    """Trigger, acknowledge or resolve; the outcome logged whatever it is."""
    if not integration.enabled:
        outcome = Outcome(AlertOutcome.REFUSED, "The integration is disabled.")
    elif alert.error:
        outcome = Outcome(AlertOutcome.REFUSED, alert.error)
    else:
        try:
            outcome = _apply(integration, alert)
        except TriggerContention:
            raise  # the endpoint retries, then answers 429 (logged there)
        except Refusal as exc:
            outcome = Outcome(AlertOutcome.REFUSED, exc.message)
    _log(integration, outcome, alert)
    return outcome


def _apply(integration: Integration, alert: IncomingAlert) -> Outcome:
    actor = integration_actor(integration)
    key = scoped_key(integration, alert.dedup_key)
    if alert.action == "trigger":
        preview = incident_fields(integration, alert)
        incident, created = alert_trigger(actor=actor, dedup_key=key, **preview)
        if created:
            return Outcome(AlertOutcome.ACCEPTED, "Opened an incident.", incident)
        return Outcome(AlertOutcome.DEDUPLICATED, "Added to the open incident.", incident)
    return _end(integration, actor, key, alert)


def _end(integration: Integration, actor: Actor, key: str, alert: IncomingAlert) -> Outcome:
    """Acknowledge or resolve (or the note instead of resolving) the key's open incident."""
    incident: Incident | None
    if alert.action == "acknowledge":
        incident = alert_acknowledge(actor=actor, dedup_key=key, summary=alert.title)
        reason = "Acknowledged the incident."
    elif integration.resolve_on_resolved:
        try:
            incident = alert_resolve(actor=actor, dedup_key=key, summary=alert.title)
            reason = "Resolved the incident."
        except Refusal as exc:
            # The lifecycle has no way from here to resolved (an incident no group took yet):
            # the people who take it see that the tool reported it over.
            incident = alert_note(actor=actor, dedup_key=key, summary=alert.title)
            reason = f"Noted on the incident, not resolved: {exc.message}"
    else:
        incident = alert_note(actor=actor, dedup_key=key, summary=alert.title)
        reason = "Noted on the incident (this integration leaves resolving to people)."
    if incident is None:
        return Outcome(AlertOutcome.IGNORED, "No open incident for this dedup key.")
    return Outcome(AlertOutcome.ACCEPTED, reason, incident)


def incident_fields(integration: Integration, alert: IncomingAlert) -> dict:
    """Title, details, impact, urgency and category of the incident the alert would open."""
    rule = match_rule(integration.rules, alert.labels) or {}
    category: Category | None = integration.default_category
    if rule.get("category"):
        category = (
            Category.objects.for_tenant(integration.tenant).filter(slug=rule["category"]).first()
            or category
        )
    details = alert.description
    if alert.link:
        details = f"{details}\n\nLink: {alert.link}".strip()
    return {
        "summary": (alert.title or "Monitoring alert")[:200],
        "details": details,
        "impact": rule.get("impact", integration.default_impact),
        "urgency": rule.get("urgency", integration.default_urgency),
        "category": category,
    }


@transaction.atomic
def alert_log_prune(*, now=None) -> int:
    """Log rows older than INTEGRATION_LOG_RETENTION_DAYS (run daily by beat)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.INTEGRATION_LOG_RETENTION_DAYS)
    deleted, _ = AlertLog.objects.filter(received_at__lt=cutoff).delete()
    return deleted
