"""What each tool sends, read into one shape (IncomingAlert), and the errors in words."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from incidents.intake.rules import resolve_path

ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")
RESOLVE_WORDS = {"resolve", "resolved", "ok", "recovered", "recovery", "closed", "up"}
ACK_WORDS = {"acknowledge", "acknowledged", "ack"}


@dataclass
class IncomingAlert:
    action: str
    dedup_key: str
    title: str = ""
    description: str = ""
    link: str = ""
    labels: dict[str, Any] = field(default_factory=dict)
    error: str = ""  # set: the alert is refused with this reason


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def alertmanager_alerts(body: Any, *, grouped: bool = False) -> list[IncomingAlert]:
    """Alertmanager's webhook (version 4): one alert per fingerprint in the group, or, grouped,
    one for the group (its groupKey), resolved when the whole group is."""
    if not isinstance(body, dict) or not isinstance(body.get("alerts"), list):
        raise ValueError("The body is not an Alertmanager webhook message (no `alerts` list).")
    common = body.get("commonLabels") or {}
    if grouped:
        return [_alertmanager_group(body, common)]
    return [_alertmanager_alert(a, common) for a in body["alerts"] if isinstance(a, dict)]


def _alertmanager_group(body: dict, common: dict) -> IncomingAlert:
    notes = body.get("commonAnnotations") or {}
    alerts = [a for a in body["alerts"] if isinstance(a, dict)]
    firing = [a for a in alerts if a.get("status") != "resolved"]
    lines = [
        f"- {a.get('status', 'firing')}: "
        + ((a.get("annotations") or {}).get("summary") or json.dumps(a.get("labels") or {}))
        for a in alerts
    ]
    group_key = _text(body.get("groupKey")) or json.dumps(body.get("groupLabels") or {})
    title = notes.get("summary") or common.get("alertname") or "Alert group from Alertmanager"
    description = "\n".join(filter(None, [_text(notes.get("description")), *lines]))
    return IncomingAlert(
        action="resolve" if body.get("status") == "resolved" or not firing else "trigger",
        dedup_key=f"am-group:{group_key}",
        title=f"{_text(title)} ({len(firing)} firing)" if len(firing) > 1 else _text(title),
        description=description,
        link=_text(notes.get("runbook_url") or body.get("externalURL")),
        labels=common,
    )


def _alertmanager_alert(alert: dict, common: dict) -> IncomingAlert:
    labels = {**common, **(alert.get("labels") or {})}
    notes = alert.get("annotations") or {}
    fingerprint = _text(alert.get("fingerprint"))
    if not fingerprint:
        # Alertmanager always sends one; a hand-made message keys on its labels instead.
        fingerprint = json.dumps(labels, sort_keys=True)
    title = notes.get("summary") or labels.get("alertname") or "Alert from Alertmanager"
    return IncomingAlert(
        action="resolve" if alert.get("status") == "resolved" else "trigger",
        dedup_key=f"am:{fingerprint}",
        title=_text(title),
        description=_text(notes.get("description")),
        link=_text(notes.get("runbook_url") or alert.get("generatorURL")),
        labels=labels,
    )


def pagerduty_errors(body: Any) -> list[str]:
    """The errors PagerDuty would list for this event (empty: valid)."""
    if not isinstance(body, dict):
        return ["Event object is invalid"]
    errors = []
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
    if not body.get("routing_key"):
        errors.append("'routing_key' is missing or blank")
    if action in ("acknowledge", "resolve") and not body.get("dedup_key"):
        errors.append("'dedup_key' is missing or blank (required to acknowledge or resolve)")
    if len(_text(body.get("dedup_key"))) > 255:
        errors.append("'dedup_key' is too long (at most 255 characters)")
    if action == "trigger":
        errors.extend(_payload_errors(body.get("payload")))
    return errors


def _payload_errors(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    errors = []
    for name in ("summary", "source"):
        if not _text(payload.get(name)).strip():
            errors.append(f"'payload.{name}' is missing or blank")
    if len(_text(payload.get("summary"))) > 1024:
        errors.append("'payload.summary' is too long (at most 1024 characters)")
    if payload.get("severity") not in PD_SEVERITIES:
        errors.append(
            "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
        )
    return errors


def pagerduty_alert(body: dict) -> IncomingAlert:
    """A valid event (pagerduty_errors empty); a trigger without dedup_key gets one."""
    payload = body.get("payload") or {}
    details = payload.get("custom_details")
    description = "\n".join(
        line
        for line in (
            f"Source: {_text(payload.get('source'))}" if payload.get("source") else "",
            f"Component: {_text(payload.get('component'))}" if payload.get("component") else "",
            _text(details) if details else "",
        )
        if line
    )
    links = body.get("links") or []
    link = links[0].get("href", "") if links and isinstance(links[0], dict) else ""
    labels = {k: payload.get(k) for k in ("severity", "source", "component", "group", "class")}
    if isinstance(details, dict):
        labels = {**details, **labels}
    return IncomingAlert(
        action=body["event_action"],
        dedup_key=_text(body.get("dedup_key")) or uuid.uuid4().hex,
        title=_text(payload.get("summary")),
        description=description,
        link=_text(link) or _text(body.get("client_url")),
        labels={k: v for k, v in labels.items() if v is not None},
    )


def webhook_alert(mapping: dict[str, str], body: Any) -> IncomingAlert:
    """The generic webhook's alert by the integration's mapping; .error says what is missing."""
    values = {name: resolve_path(body, path) for name, path in mapping.items()}
    action_word = _text(values.get("action")).strip().lower()
    action = (
        "resolve"
        if action_word in RESOLVE_WORDS
        else "acknowledge"
        if action_word in ACK_WORDS
        else "trigger"
    )
    alert = IncomingAlert(
        action=action,
        dedup_key=_text(values.get("dedup_key")).strip(),
        title=_text(values.get("title")).strip(),
        description=_text(values.get("description")),
        link=_text(values.get("link")),
        labels={"severity": values["severity"]} if values.get("severity") is not None else {},
    )
    missing = [
        f"{name} (path {mapping.get(name)})"
        for name in ("dedup_key", "title")
        if not getattr(alert, name) and (name == "dedup_key" or action == "trigger")
    ]
    if missing:
        alert.error = "The message has no value at " + " or ".join(missing) + "."
    elif len(alert.dedup_key) > 255:
        alert.error = "The dedup key is longer than 255 characters."
    return alert
