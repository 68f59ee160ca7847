"""The endpoints monitoring tools send to. The integration key names the tenant: looked up
across tenants (a routine bypass of the wall), then the rest of the request in its scope."""

from __future__ import annotations

import json
from typing import Any

from django.db import OperationalError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.intake.alerts import (
    IncomingAlert,
    alertmanager_alerts,
    pagerduty_alert,
    pagerduty_errors,
    webhook_alert,
)
from incidents.intake.receive import Outcome, log_refused, rate_limited, receive
from incidents.intake.services import integration_by_key
from incidents.models import AlertOutcome, Integration, IntegrationKind
from incidents.services.alerts import TriggerContention
from tenancy import rls

BUSY = "The desk is busy with this alert; retry."
# What these endpoints answer, as the tools expect it: plain JSON, not problem+json.
ANSWERS = {code: OpenApiTypes.OBJECT for code in (200, 400, 401, 429)}


class IntakeView(APIView):
    """No session, no API key: the integration key authenticates (Bearer, or ?key= for tools
    that cannot set a header)."""

    authentication_classes: list = []
    parser_classes = [JSONParser]
    permission_classes = [AllowAny]
    throttle_classes: list = []
    metadata_class = None

    def integration(self, key: str, kind: str) -> Integration | None:
        integration = integration_by_key(key)
        if integration is None or integration.kind != kind:
            return None
        rls.enter(rls.Scope(tenant_id=integration.tenant_id))
        return integration

    def bearer(self, request) -> str:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return request.GET.get("key", "")


def read_json(request) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def receive_safely(integration: Integration, alert: IncomingAlert) -> Outcome:
    """A lost deadlock or a dropped connection is retried once, then refused, never a 500."""
    for attempt in range(2):
        try:
            return receive(integration, alert)
        except (OperationalError, TriggerContention):
            if attempt:
                log_refused(integration, BUSY, alert)
    return Outcome(AlertOutcome.REFUSED, BUSY)


def too_many(integration: Integration, wait: float, body: dict, alerts: int = 1) -> Response:
    for _ in range(min(alerts, 100)):
        log_refused(integration, "Rate limited: over INTEGRATION_ALERTS_PER_MINUTE.")
    return Response(body, status=429, headers={"Retry-After": str(int(wait + 0.999))})


def problem(status_code: int, detail: str) -> Response:
    return Response({"status": status_code, "detail": detail}, status=status_code)


class AlertmanagerView(IntakeView):
    """Prometheus Alertmanager's webhook receiver (message version 4)."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=ANSWERS)
    def post(self, request) -> Response:
        integration = self.integration(self.bearer(request), IntegrationKind.ALERTMANAGER)
        if integration is None:
            return problem(401, "Send the integration key as `Authorization: Bearer <key>`.")
        body = read_json(request)
        try:
            alerts = alertmanager_alerts(body, grouped=integration.group_alerts)
        except ValueError as exc:
            log_refused(integration, str(exc))
            return problem(400, str(exc))
        wait = rate_limited(integration, len(alerts))
        if wait:
            return too_many(
                integration, wait, {"status": 429, "detail": "Rate limited."}, len(alerts)
            )
        outcomes = [receive_safely(integration, alert) for alert in alerts]
        if any(o.reason == BUSY for o in outcomes):
            return problem(429, BUSY)  # Alertmanager sends the group again
        return Response({"status": "ok", "alerts": [_summary(o) for o in outcomes]})


def _summary(outcome: Outcome) -> dict[str, Any]:
    return {
        "outcome": outcome.outcome,
        "reason": outcome.reason,
        "incident": outcome.incident.reference if outcome.incident else None,
    }


class PagerDutyEventsView(IntakeView):
    """PagerDuty Events API v2: answered as PagerDuty answers, so its clients work unchanged."""

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={code: OpenApiTypes.OBJECT for code in (202, 400, 429)},
    )
    def post(self, request) -> Response:
        body = read_json(request)
        errors = pagerduty_errors(body)
        integration = None
        if isinstance(body, dict) and body.get("routing_key"):
            integration = self.integration(str(body["routing_key"]), IntegrationKind.PAGERDUTY)
            if integration is None:
                errors.append("'routing_key' is invalid (no integration has this key)")
        if errors:
            if integration is not None:
                log_refused(integration, "; ".join(errors))
            return _invalid(errors)
        assert integration is not None
        wait = rate_limited(integration)
        if wait:
            return too_many(integration, wait, THROTTLED)
        alert = pagerduty_alert(body)
        outcome = receive_safely(integration, alert)
        if outcome.reason == BUSY:
            return Response(THROTTLED, status=429, headers={"Retry-After": "1"})
        if outcome.outcome == AlertOutcome.REFUSED:
            return _invalid([outcome.reason])
        accepted = {"status": "success", "message": "Event processed", "dedup_key": alert.dedup_key}
        return Response(accepted, status=202)


THROTTLED = {
    "status": "throttle event",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
}


def _invalid(errors: list[str]) -> Response:
    return Response(
        {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
        status=400,
    )


class WebhookView(IntakeView):
    """A generic JSON webhook, read through the integration's mapping."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses=ANSWERS)
    def post(self, request, integration_id: int) -> Response:
        key = self.bearer(request) or request.headers.get("X-Integration-Key", "")
        integration = self.integration(key, IntegrationKind.WEBHOOK)
        if integration is None or integration.pk != integration_id:
            return problem(401, "Send this integration's key as `Authorization: Bearer <key>`.")
        body = read_json(request)
        if not isinstance(body, (dict, list)):
            log_refused(integration, "The body is not JSON.")
            return problem(400, "The body is not JSON.")
        wait = rate_limited(integration)
        if wait:
            return too_many(integration, wait, {"status": 429, "detail": "Rate limited."})
        outcome = receive_safely(integration, webhook_alert(integration.mapping, body))
        if outcome.reason == BUSY:
            return problem(429, BUSY)
        status_code = 400 if outcome.outcome == AlertOutcome.REFUSED else 200
        return Response(_summary(outcome), status=status_code)
