"""/api/v1/incidents/{number}/sla/ and .../alerts/: an incident's clocks, climb and alerts, and
acknowledging an alert as the desk's button and the email's link do. The desk's only:
a requester gets 404, as if there were nothing (SLA internals are not theirs to see)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from escalation.api import incident_sla_serializers as s
from escalation.models import EscalationRun, SlaAlert
from escalation.selectors.sla import alerts_for_incident, clocks_for_incident
from escalation.services.alerts import AlreadyAcknowledged, alert_acknowledge
from incidents.api.base import IncidentAPIView
from incidents.models import EventKind, Incident, IncidentEvent


# The desk's view of an incident's SLA: requesters get the 404 of a missing page.
class IncidentSlaAPIView(IncidentAPIView):
    def incident_named(self, number: str) -> Incident:
        if not self.actor.is_agent_or_above:
            raise Http404("Not found.")
        return super().incident_named(number)


def _reached(incident: Incident) -> dict[tuple[int, int], object]:
    """When each clock threshold was reached: the alert rows the sweep wrote, in one query."""
    rows = (
        SlaAlert.objects.for_tenant(incident.tenant_id)
        .filter(incident_id=incident.pk, clock__isnull=False)
        .values_list("clock_id", "threshold", "due_at")
    )
    return {(clock_id, threshold): due_at for clock_id, threshold, due_at in rows}


def _climb(incident: Incident) -> EscalationRun | None:
    return (
        EscalationRun.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident)
        .select_related("policy")
        .first()
    )


class IncidentSlaView(IncidentSlaAPIView):
    serializer_class = s.IncidentSlaSerializer

    @extend_schema(operation_id="incidents_sla")
    def get(self, request, number: str) -> Response:
        incident = self.incident
        now = timezone.now()
        views = clocks_for_incident(incident, actor=self.actor, explain=True, now=now)
        context = {"now": now, "reached": _reached(incident)}
        climb = _climb(incident)
        return Response(
            {
                "incident": incident.reference,
                "clocks": s.ClockSerializer(views, many=True, context=context).data,
                "escalation": s.EscalationRunSerializer(climb).data if climb else None,
            }
        )


def _acknowledgers(incident: Incident) -> dict[int, IncidentEvent]:
    """Who acknowledged each alert, from the events alert_acknowledge writes: a key's name
    lives only there (an integration is no user)."""
    events = (
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, kind=EventKind.SLA, data__has_key="climb_stopped")
        .select_related("actor_user")
        .order_by("created_at", "id")
    )
    return {event.data["alert"]: event for event in events}


def _alert_data(incident: Incident, alert: SlaAlert | list[SlaAlert], many: bool = False):
    context = {"number": incident.reference, "acknowledgers": _acknowledgers(incident)}
    return s.SlaAlertSerializer(alert, many=many, context=context).data


class IncidentAlertListView(IncidentSlaAPIView):
    serializer_class = s.SlaAlertSerializer

    @extend_schema(operation_id="incidents_alerts_list", responses=s.SlaAlertSerializer(many=True))
    def get(self, request, number: str) -> Response:
        incident = self.incident
        return Response(_alert_data(incident, list(alerts_for_incident(incident)), many=True))


class IncidentAlertAcknowledgeView(IncidentSlaAPIView):
    serializer_class = s.AlertAcknowledgedSerializer

    @extend_schema(
        operation_id="incidents_alerts_acknowledge",
        request=None,
        responses=s.AlertAcknowledgedSerializer,
    )
    def post(self, request, number: str, alert_id: int) -> Response:
        incident = self.incident
        alerts = alerts_for_incident(incident)
        alert = alerts.filter(pk=alert_id).first()
        if alert is None:
            raise Http404(f"No alert {alert_id} on {incident.reference}.")
        try:
            alert_acknowledge(alert=alert, actor=self.actor, via="api")
            already = False
        except AlreadyAcknowledged:  # acknowledging twice is fine, and says so
            already = True
        climb = _climb(incident)
        return Response(
            {
                "alert": _alert_data(incident, alerts.get(pk=alert_id)),
                "already_acknowledged": already,
                "escalation": s.EscalationRunSerializer(climb).data if climb else None,
            }
        )
