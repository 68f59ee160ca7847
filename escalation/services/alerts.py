"""From alert rows to people: who is told, through which channels, and acknowledging.

The sweep writes alerts and nothing else; `alerts_notify_pending` (a task triggered after each
sweep commit and by beat as a relay) claims alerts not yet notified, enqueues their outbox rows
and writes the timeline event, in one transaction with `notified_at`: each alert is notified
exactly once, and an alert whose notifier died is picked up again.

Channels plug in through ALERT_CHANNELS: a function (alert, recipients, message) -> rows
enqueued. Email is registered here; the in-app and webhook channels register beside it with
`alert_channel_register`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from escalation.models import AlertKind, MailKind, NotifyKind, RunState, SlaAlert
from escalation.selectors.told import mail_takers
from escalation.services.climb import LINE, escalation_stop
from escalation.services.outbox import notification_enqueue, notifications_in_bulk
from escalation.services.webhooks import (
    incident_payload,
    subscribed_endpoints,
    webhook_event_emit,
)
from incidents.models import EventKind, GroupMember, Incident, IncidentEvent
from incidents.services.common import event_row, record_event
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.links import NOT_A_LINK, link_read
from tenancy.models import Membership, Role, User

log = logging.getLogger(__name__)
ACK_SALT = "escalation.alert-ack"


@dataclass
class AlertMessage:
    subject: str
    url: str
    alert: SlaAlert
    recipient: User | None = None

    @cached_property
    def body(self) -> str:
        """Rendered on first use: the built-in channels never read it (email signs a body per
        reader), so the notifier renders no template it does not send."""
        return _body(self.alert, self.url, self.recipient)


AlertChannel = Callable[[SlaAlert, list[User], AlertMessage], int]
ALERT_CHANNELS: dict[str, AlertChannel] = {}


def alert_channel_register(name: str, channel: AlertChannel) -> None:
    ALERT_CHANNELS[name] = channel


# --- who -------------------------------------------------------------------------------------


def _staff(tenant_id: int):
    members = Membership.objects.for_tenant(tenant_id).filter(
        is_active=True, role__in=[Role.AGENT, Role.MANAGER, Role.ADMIN]
    )
    return User.objects.filter(is_active=True, id__in=members.values("user_id"))


def _group_agents(incident: Incident) -> list[User]:
    if incident.group_id is None:
        return []
    in_group = GroupMember.objects.for_tenant(incident.tenant_id).filter(group_id=incident.group_id)
    return list(_staff(incident.tenant_id).filter(id__in=in_group.values("user_id")).order_by("id"))


def _managers(incident: Incident) -> list[User]:
    managers = Membership.objects.for_tenant(incident.tenant_id).filter(
        is_active=True, role=Role.MANAGER
    )
    return list(_staff(incident.tenant_id).filter(id__in=managers.values("user_id")).order_by("id"))


def _named(tenant_id: int, user_id: int | None) -> list[User]:
    return list(_staff(tenant_id).filter(id=user_id)) if user_id else []


def _assignee_or_group(incident: Incident) -> list[User]:
    return _named(incident.tenant_id, incident.assignee_id) or _group_agents(incident)


def _lead(incident: Incident) -> list[User]:
    return _named(incident.tenant_id, incident.group.lead_id) if incident.group else []


def _admins(incident: Incident) -> list[User]:
    return list(
        _staff(incident.tenant_id).filter(
            memberships__tenant_id=incident.tenant_id, memberships__role=Role.ADMIN
        )
    )


def alert_recipients(alert: SlaAlert) -> list[User]:
    """The people an alert is for: warnings go to whoever holds the incident, a breach to the
    group's lead as well; managers (else admins) when that is nobody. Never the person who
    escalated: a functional escalation tells the rest of the group, a hierarchical one the
    line above them."""
    incident = alert.incident
    notify = alert.notify or NotifyKind.ASSIGNEE
    by_kind: dict[str, Callable[[Incident], list[User]]] = {
        NotifyKind.ASSIGNEE: _assignee_or_group,
        NotifyKind.GROUP: _group_agents,
        NotifyKind.GROUP_LEAD: _lead,
        NotifyKind.MANAGER: _managers,
        NotifyKind.USER: lambda i: _named(i.tenant_id, alert.notify_user_id),
        # Resolved when the level fired (climb.on_call_target): whoever was on call.
        NotifyKind.SCHEDULE: lambda i: _named(i.tenant_id, alert.notify_user_id),
        LINE: _lead,  # up the line: the lead, else (the fallback below) the managers
    }
    found = by_kind[notify](incident)
    if alert.kind == AlertKind.BREACH:
        found += [u for u in _lead(incident) if u not in found]

    def others(users: list[User]) -> list[User]:
        return [u for u in users if u.pk != alert.escalated_by_id]

    found = others(found)
    if not found and (alert.kind != AlertKind.ASSIGNED or notify == LINE):
        found = others(_managers(incident)) or others(_admins(incident))
    return found


# --- what ------------------------------------------------------------------------------------


def _headline(alert: SlaAlert) -> str:
    metric = alert.clock.get_metric_display().lower() if alert.clock else ""
    if alert.kind == AlertKind.WARNING:
        return f"{alert.threshold}% of the {metric} target used"
    if alert.kind == AlertKind.BREACH:
        return f"{metric} target breached"
    if alert.kind == AlertKind.ESCALATION:
        round_ = f", round {alert.repeat + 1}" if alert.repeat else ""
        return f"not acknowledged: escalation level {alert.level}{round_}"
    if alert.notify == LINE:
        return "escalated up the line to you"
    return "escalated to you" if alert.notify == "assignee" else "escalated to your group"


def ack_token(alert: SlaAlert, user: User) -> str:
    return signing.dumps({"a": alert.pk, "u": user.pk}, salt=ACK_SALT, compress=True)


def ack_token_read(token: str) -> tuple[int, int, bool]:
    """(alert id, user id, expired) of a genuine link; Http404 for any other token."""
    link = link_read(token, salt=ACK_SALT, max_age=settings.SLA_ACK_LINK_MAX_AGE)
    alert_id, user_id = link.data.get("a"), link.data.get("u")
    if not isinstance(alert_id, int) or not isinstance(user_id, int):
        raise Http404(NOT_A_LINK)
    return alert_id, user_id, link.expired


def _body(alert: SlaAlert, url: str, recipient: User | None) -> str:
    incident = alert.incident
    ack_url = ""
    if recipient is not None and alert.kind != AlertKind.ASSIGNED:
        ack_url = settings.SITE_URL + reverse(
            "escalation-alert-ack-link",
            kwargs={"tenant_slug": incident.tenant.slug, "token": ack_token(alert, recipient)},
        )
    context = {"alert": alert, "incident": incident, "headline": _headline(alert), "url": url,
               "ack_url": ack_url, "clock": alert.clock, "recipient": recipient}  # fmt: skip
    return render_to_string("escalation/email/alert.txt", context)


def alert_message(alert: SlaAlert, recipient: User | None = None) -> AlertMessage:
    """Subject, text and link of an alert; with a recipient, the text carries their signed
    acknowledgement link."""
    incident = alert.incident
    url = settings.SITE_URL + reverse(
        "escalation-incident-sla",
        kwargs={"tenant_slug": incident.tenant.slug, "number": incident.number},
    )
    # The token first, in the form replies are matched by (mail/services/threads.py).
    subject = f"[{incident.reference}] {incident.tenant.name}: {_headline(alert)}"
    return AlertMessage(subject, url, alert, recipient)


def _to_each(alert: SlaAlert, recipients: list[User], subject: str, channel: str, **row) -> int:
    """One outbox row per recipient; `row["body"]` may be a function of the reader."""
    body = row.pop("body")
    for user in recipients:
        notification_enqueue(
            tenant=alert.incident.tenant,
            incident=alert.incident,
            recipient=user,
            kind=f"sla_{alert.kind}",
            address=user.email,
            subject=subject,
            body=body(user) if callable(body) else body,
            channel=channel,
            **row,
        )
    return len(recipients)


def mail_kind(alert: SlaAlert) -> str:
    """Which of a member's mail choices (MailKind) an alert's email falls under: "escalated to
    you" is news of one's own incidents or group queue; the rest are SLA alerts."""
    if alert.kind != AlertKind.ASSIGNED or alert.notify == LINE:
        return MailKind.SLA
    return MailKind.MINE if alert.notify == NotifyKind.ASSIGNEE else MailKind.GROUP


# What the notifier's batch has read already (alerts_notify_pending): a storm's alerts mostly
# share their tenant's endpoints and the same few people's mail choices.
_batch_memo: ContextVar[dict[tuple, Any] | None] = ContextVar("alerts_batch_memo", default=None)


def _remembered(key: tuple, compute: Callable[[], Any]) -> Any:
    memo = _batch_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _email_channel(alert: SlaAlert, recipients: list[User], message: AlertMessage) -> int:
    # Only to those who take this kind of mail (the bell shows it to everyone).
    kind = mail_kind(alert)
    ids = tuple(sorted(u.pk for u in recipients))
    takers = _remembered(
        ("takers", alert.tenant_id, kind, ids),
        lambda: mail_takers(alert.tenant_id, dict.fromkeys(ids, [kind])),
    )
    # Each email's acknowledgement link is signed for its reader.
    body = partial(_body, alert, message.url)
    return _to_each(
        alert, [u for u in recipients if u.pk in takers], message.subject, "email", body=body
    )


def _inapp_channel(alert: SlaAlert, recipients: list[User], message: AlertMessage) -> int:
    """The desk's bell: a line per recipient that opens the incident's SLA page."""
    link = urlsplit(message.url).path
    body = alert.incident.title
    return _to_each(alert, recipients, message.subject, "inapp", body=body, link=link)


# Keyed by the alert's kind as stored (AlertKind members are equal to their strings).
WEBHOOK_EVENTS: dict[str, str] = {
    AlertKind.WARNING: "sla.warning",
    AlertKind.BREACH: "sla.breached",
}


def _webhook_channel(alert: SlaAlert, recipients: list[User], message: AlertMessage) -> int:
    """The tenant's endpoints subscribed to SLA events (one row per endpoint, not per person)."""

    event = WEBHOOK_EVENTS.get(alert.kind)
    if event is None:
        return 0
    incident, tenant = alert.incident, alert.incident.tenant
    payload = {
        "incident": incident_payload(incident, tenant=tenant),
        "sla": {"metric": alert.clock.metric if alert.clock else None,
                "threshold": alert.threshold, "reached_at": alert.due_at.isoformat()},
    }  # fmt: skip
    endpoints = _remembered(
        ("endpoints", tenant.pk, event), lambda: subscribed_endpoints(tenant=tenant, event=event)
    )
    rows = webhook_event_emit(
        tenant=tenant,
        event=event,
        payload=payload,
        incident=incident,
        text=message.subject,
        endpoints=endpoints,
    )
    return len(rows)


alert_channel_register("email", _email_channel)
alert_channel_register("inapp", _inapp_channel)
alert_channel_register("webhook", _webhook_channel)


def alert_recipients_notify(alert: SlaAlert, recipients: list[User] | None = None) -> int:
    """Enqueue the alert on every channel for its recipients; returns rows enqueued."""
    recipients = alert_recipients(alert) if recipients is None else recipients
    alert.recipients = [u.email for u in recipients]
    message = alert_message(alert)
    return sum(channel(alert, recipients, message) for channel in ALERT_CHANNELS.values())


# --- the notifier ----------------------------------------------------------------------------


def _superseded(alert: SlaAlert) -> bool:
    """An escalation step whose climb was acknowledged before it went out stays quiet."""
    if alert.kind != AlertKind.ESCALATION or alert.run_id is None:
        return False
    return alert.run is not None and alert.run.state == RunState.ACKNOWLEDGED


def _audience(alert: SlaAlert) -> tuple:
    """What alert_recipients depends on: equal keys, equal recipients."""
    incident = alert.incident
    return (incident.tenant_id, alert.kind, alert.notify, alert.notify_user_id,
            alert.escalated_by_id, incident.group_id, incident.assignee_id)  # fmt: skip


def _alert_event(alert: SlaAlert, sent: int, now: datetime) -> IncidentEvent:
    """The internal timeline entry of a notified alert (written in bulk with its batch)."""
    incident = alert.incident
    # A level that paged a schedule says whom it found on call (or that nobody was).
    on_call = f" ({alert.on_call_note})" if alert.on_call_note else ""
    return event_row(
        actor=Actor.system(incident.tenant, "SLA"),
        incident=incident,
        at=now,
        kind=EventKind.SLA,
        reason=_headline(alert).capitalize() + on_call,
        data={"alert": alert.pk, "kind": alert.kind, "threshold": alert.threshold,
              "level": alert.level, "recipients": alert.recipients, "sent": sent,
              "on_call": alert.on_call_note},
        public=False,
    )  # fmt: skip


def alerts_notify_pending(*, limit: int = 100) -> int:
    """Notify one batch of alerts not yet notified; returns how many were handled."""
    token = _batch_memo.set({})
    try:
        return _notify_batch(limit)
    finally:
        _batch_memo.reset(token)


def _fair_turns(limit: int) -> list[int]:
    """The ids of the next `limit` alerts waiting, taken in turns across tenants (each
    tenant's first, then each one's second, ...), so a tenant's storm of thousands does not
    queue a small tenant's few alerts, and their deliveries, behind it (bench/tenants_bench.py
    measured 25 s of lateness that way). Chosen without locks: PostgreSQL refuses FOR UPDATE
    beside a window function, so _notify_batch locks, in this order, what another notifier has
    not locked among them."""
    waiting = SlaAlert.objects.filter(notified_at=None).annotate(
        turn=Window(RowNumber(), partition_by=F("tenant_id"), order_by=F("id").asc())
    )
    return list(waiting.order_by("turn", "id").values_list("id", flat=True)[:limit])


def _notify_batch(limit: int) -> int:
    # Twice the batch: a second notifier at work holds some of the first ones (skipped).
    turns = _fair_turns(2 * limit)
    if not turns:
        return 0
    in_turn = Case(*(When(id=alert_id, then=Value(n)) for n, alert_id in enumerate(turns)))
    with transaction.atomic():
        batch = list(
            SlaAlert.objects.filter(id__in=turns, notified_at=None)
            .select_related(
                "incident__tenant",
                "incident__group",
                "incident__priority",
                "incident__category",  # the webhook payload names them
                "incident__assignee",
                "clock",
                "run",
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by(in_turn)[:limit]  # deliveries queue in the same turns
        )
        now, events = timezone.now(), []
        found: dict[tuple, list[User]] = {}  # alerts of one incident or team share recipients
        with notifications_in_bulk():  # the batch's outbox rows in one INSERT
            for alert in batch:
                key = _audience(alert)
                if key not in found:
                    found[key] = alert_recipients(alert)
                sent = 0 if _superseded(alert) else alert_recipients_notify(alert, found[key])
                alert.notified_at = now
                events.append(_alert_event(alert, sent, now))
        SlaAlert.objects.bulk_update(batch, ["notified_at", "recipients"])
        IncidentEvent.objects.bulk_create(events)
    return len(batch)


# --- acknowledging ---------------------------------------------------------------------------


class AlreadyAcknowledged(InvalidInput):
    """Someone acknowledged the alert first: theirs stands, and so does the stop."""


@transaction.atomic
def alert_acknowledge(*, alert: SlaAlert, actor: Actor, via: str = "desk") -> SlaAlert:
    """Someone has it: the alert is acknowledged and the incident's climb stops."""

    if not actor.is_agent_or_above or alert.tenant_id != actor.tenant.pk:
        raise NotAllowed("Only the desk's agents can acknowledge alerts.")
    locked = SlaAlert.objects.for_tenant(actor.tenant).select_for_update().get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        raise AlreadyAcknowledged(f"This alert was already acknowledged by {_who(locked)}.")
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by, locked.acknowledged_via = actor.user, via
    locked.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_via"])
    incident = Incident.objects.for_tenant(actor.tenant).get(pk=locked.incident_id)
    stopped = escalation_stop(incident=incident, acknowledged=True, user=actor.user, via=via)
    record_event(
        incident,
        actor=actor,
        kind=EventKind.SLA,
        public=False,
        reason=f"Alert acknowledged ({_headline(locked)})",
        data={"alert": locked.pk, "via": via, "climb_stopped": stopped},
    )
    return locked


def _who(alert: SlaAlert) -> str:
    if alert.acknowledged_by:
        return alert.acknowledged_by.display_name
    # An API key is no user: its name is on the acknowledgement's event.
    return "an integration" if alert.acknowledged_via == "api" else "the system"
