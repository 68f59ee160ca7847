"""Webhook endpoints of a tenant, and the events they receive through the notifications outbox.

An event becomes one Notification row per active endpoint subscribed to it, written in the
transaction of its cause; the `webhook` channel POSTs it once that commits. The API issue manages
the same endpoints, through the same services.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from escalation.channels.webhook import render_body
from escalation.models import (
    PING_EVENT,
    Channel,
    Notification,
    NotificationStatus,
    WebhookEndpoint,
    WebhookEvent,
    new_webhook_secret,
)
from escalation.services import notification_enqueue, notification_retry
from incidents.numbering import when_numbered
from incidents.rules import check_admin
from incidents.services.audited import audit_change
from tenancy.addresses import private_address_error
from tenancy.config_stamp import config_write
from tenancy.errors import InvalidInput

if TYPE_CHECKING:
    from incidents.models import Incident
    from tenancy.actors import Actor
    from tenancy.models import Tenant

EVENT_TYPES: tuple[str, ...] = tuple(WebhookEvent.values)


def subscribed_endpoints(*, tenant: Tenant, event: str) -> list[WebhookEndpoint]:
    # Few endpoints per tenant: filtering the JSON list here works on SQLite and PostgreSQL alike.
    endpoints = WebhookEndpoint.objects.for_tenant(tenant).filter(is_active=True).order_by("id")
    return [endpoint for endpoint in endpoints if endpoint.wants(event)]


def webhook_event_emit(
    *,
    tenant: Tenant,
    event: str,
    payload: dict[str, Any],
    incident: Incident | None = None,
    text: str = "",
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[Notification]:
    """Queue `event` for every active endpoint subscribed to it (`endpoints`, when the caller
    has just read them); call inside the cause's transaction so the deliveries commit (or
    vanish) with it."""
    if event not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event!r}")
    if endpoints is None:
        endpoints = subscribed_endpoints(tenant=tenant, event=event)
    text = text or summary(event, payload)
    return [_enqueue(tenant, endpoint, event, payload, text, incident) for endpoint in endpoints]


def _enqueue(
    tenant: Tenant,
    endpoint: WebhookEndpoint,
    event: str,
    payload: dict[str, Any],
    text: str,
    incident: Incident | None,
) -> Notification:
    body = render_body(
        event=event,
        payload=payload,
        text=text,
        tenant_slug=tenant.slug,
        at=timezone.now(),
        slack=endpoint.slack_format,
    )
    return notification_enqueue(
        tenant=tenant,
        kind=event,
        address=endpoint.url,
        subject=text,
        body=body,
        incident=incident,
        channel=Channel.WEBHOOK,
        endpoint=endpoint,
    )


def webhook_incident_event_emit(
    *,
    incident: Incident,
    event: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
) -> list[Notification]:
    """The incidents services' one call: builds the payload only when someone subscribes
    (`endpoints`, when the caller has them at hand)."""
    tenant = actor.tenant
    if endpoints is None:
        endpoints = subscribed_endpoints(tenant=tenant, event=event)
    if not endpoints:
        return []
    fields = _incident_fields(incident)  # as of this event, even when it is written later
    rest = {"actor": actor.name, **(data or {})}
    rows: list[Notification] = []

    def emit() -> None:
        payload = {"incident": incident_payload(incident, tenant=tenant, fields=fields), **rest}
        rows.extend(
            webhook_event_emit(
                tenant=tenant, event=event, payload=payload, incident=incident, endpoints=endpoints
            )
        )

    when_numbered(incident, emit)
    return rows


def incident_payload(
    incident: Incident, *, tenant: Tenant, fields: dict[str, Any] | None = None
) -> dict[str, Any]:
    path = reverse(
        "portal-incident-detail", kwargs={"tenant_slug": tenant.slug, "number": incident.number}
    )
    return {
        "number": incident.reference,  # as the REST API names incidents
        **(fields or _incident_fields(incident)),
        "url": settings.SITE_URL + path,
    }


def _incident_fields(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "state": incident.state,
        "impact": incident.impact,
        "urgency": incident.urgency,
        "priority": incident.priority.slug,
        "priority_rank": incident.priority_rank,
        "category": incident.category.slug if incident.category else None,
        "group": incident.group.slug if incident.group else None,
        "assignee": incident.assignee.email if incident.assignee else None,
    }


def summary(event: str, payload: dict[str, Any]) -> str:
    """One line for chat tools and the delivery log."""
    incident = payload.get("incident") or {}
    head = f"{incident.get('number', '')} {incident.get('title', '')}".strip()
    who = payload.get("actor", "")
    if event == WebhookEvent.INCIDENT_CREATED:
        return f"New incident {head} (priority {incident.get('priority')})"
    if event == WebhookEvent.INCIDENT_TRANSITIONED:
        return f"{head}: {payload.get('from_state')} → {payload.get('to_state')} by {who}"
    if event == WebhookEvent.INCIDENT_COMMENTED:
        kind = "comment" if payload.get("public", True) else "internal note"
        return f"{head}: {kind} by {who}"
    if event == PING_EVENT:
        return "Ping from the service desk: this endpoint is reachable."
    label = WebhookEvent(event).label if event in EVENT_TYPES else event
    return f"{label}: {head}" if head else label


# --- Endpoint management (settings page and API) ----------------------------------------------


def _port(parts) -> int | None:
    try:
        port = parts.port
    except ValueError:  # out of range or not a number
        port = 0
    if port == 0:  # urlsplit takes 0, which no receiver listens on
        raise InvalidInput("The URL's port is not a number from 1 to 65535.", field="url")
    return port


def _clean(url: str, events: list[str]) -> tuple[str, list[str]]:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Give a full http:// or https:// URL.", field="url")
    if len(url) > 500:
        raise InvalidInput("The URL is limited to 500 characters.", field="url")
    refused = private_address_error(parts.hostname, _port(parts))
    if refused:
        raise InvalidInput(refused, field="url")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"Unknown event types: {', '.join(unknown)}.", field="events")
    if not events:
        raise InvalidInput("Choose at least one event to send.", field="events")
    return url, [e for e in EVENT_TYPES if e in events]


def _fields(
    url: str, events: list[str], description: str, slack_format: bool, is_active: bool
) -> dict[str, Any]:
    """An endpoint's fields as typed, checked and cleaned: one rule for creating and editing."""
    url, events = _clean(url, events)
    return {
        "url": url,
        "events": events,
        "description": (description or "").strip()[:200],
        "slack_format": slack_format,
        "is_active": is_active,
    }


@config_write
def webhook_endpoint_create(
    *,
    actor: Actor,
    url: str,
    events: list[str],
    description: str = "",
    slack_format: bool = False,
    is_active: bool = True,
) -> WebhookEndpoint:
    check_admin(actor, "manage webhooks")
    fields = _fields(url, events, description, slack_format, is_active)
    endpoint = WebhookEndpoint.objects.create(tenant=actor.tenant, **fields)
    audit_change(actor=actor, action="webhook.created", target=endpoint, after=_words(endpoint))
    return endpoint


def _words(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """The endpoint as its audit record shows it; never its secret."""
    labels = dict(WebhookEvent.choices)
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": [labels.get(e, e) for e in endpoint.events],
        "slack_format": endpoint.slack_format,
        "active": endpoint.is_active,
    }


@config_write
def webhook_endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    url: str,
    events: list[str],
    description: str = "",
    slack_format: bool = False,
    is_active: bool = True,
) -> WebhookEndpoint:
    check_admin(actor, "manage webhooks")
    fields = _fields(url, events, description, slack_format, is_active)
    return _change(actor, endpoint, "webhook.changed", **fields)


@config_write
def webhook_endpoint_set_active(
    *, actor: Actor, endpoint: WebhookEndpoint, active: bool
) -> WebhookEndpoint:
    """Disabling keeps the endpoint and its log; pending deliveries to it fail for good."""
    check_admin(actor, "manage webhooks")
    action = "webhook.enabled" if active else "webhook.disabled"
    return _change(actor, endpoint, action, is_active=active)


@config_write
def webhook_endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Deliveries still pending are signed with the new secret when they are sent."""
    check_admin(actor, "manage webhooks")
    endpoint = _change(actor, endpoint, "", secret=new_webhook_secret())
    # The secret itself is never recorded: only that it was replaced.
    audit_change(
        actor=actor,
        action="webhook.secret_rotated",
        target=endpoint,
        after={"secret": "rotated"},
    )
    return endpoint


def _change(actor: Actor, endpoint: WebhookEndpoint, action: str, **fields: Any) -> WebhookEndpoint:
    """Save the fields and, with an `action`, record what of them changed."""
    endpoint = _lock(actor, endpoint)
    before = _words(endpoint)
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=[*fields, "updated_at"])
    if action:
        audit_change(
            actor=actor, action=action, target=endpoint, before=before, after=_words(endpoint)
        )
    return endpoint


@transaction.atomic
def webhook_endpoint_ping(*, actor: Actor, endpoint: WebhookEndpoint) -> Notification:
    """A test delivery, whatever the endpoint subscribes to; its result shows in the log."""
    check_admin(actor, "manage webhooks")
    endpoint = _lock(actor, endpoint)
    if not endpoint.is_active:
        raise InvalidInput("Enable the endpoint before sending it a test.")
    payload = {"endpoint": endpoint.pk, "actor": actor.name}
    return _enqueue(actor.tenant, endpoint, PING_EVENT, payload, summary(PING_EVENT, payload), None)


def _lock(actor: Actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.for_tenant(actor.tenant).select_for_update().get(pk=endpoint.pk)


def endpoint_deliveries(*, endpoint: WebhookEndpoint, limit: int = 50) -> list[Notification]:
    """The endpoint's delivery log, newest first."""
    rows = Notification.objects.for_tenant(endpoint.tenant_id).filter(endpoint=endpoint)
    return list(rows.order_by("-created_at", "-id")[:limit])


@config_write
def webhook_endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """The delivery log stays (its rows lose the link); deliveries not yet sent are dropped."""
    check_admin(actor, "manage webhooks")
    endpoint = _lock(actor, endpoint)
    Notification.objects.for_tenant(actor.tenant).filter(
        endpoint=endpoint, status__in=[NotificationStatus.PENDING, NotificationStatus.DEAD]
    ).update(status=NotificationStatus.DEAD, last_error="The endpoint was deleted.")
    before, target_id = _words(endpoint), endpoint.pk
    endpoint.delete()
    endpoint.pk = target_id  # the record names the endpoint that went
    audit_change(actor=actor, action="webhook.deleted", target=endpoint, before=before, always=True)


@transaction.atomic
def webhook_delivery_redeliver(*, actor: Actor, delivery: Notification) -> Notification:
    """Send a delivery again with the same delivery id: a failed one, or one the receiver lost."""
    check_admin(actor, "manage webhooks")
    endpoint = delivery.endpoint
    if endpoint is None:
        raise InvalidInput("The endpoint of this delivery was deleted; it cannot be sent again.")
    if not endpoint.is_active:
        raise InvalidInput("Enable the endpoint before sending it deliveries again.")
    if delivery.status not in (NotificationStatus.SENT, NotificationStatus.DEAD):
        raise InvalidInput("This delivery is still being sent; wait for its outcome.")
    statuses = (NotificationStatus.SENT, NotificationStatus.DEAD)
    return notification_retry(notification=delivery, statuses=statuses)
