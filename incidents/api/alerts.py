from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from incidents.api.base import by_slug, incident_response, valid
from incidents.api.serializers import AlertSerializer, IncidentSerializer
from incidents.models import Category
from incidents.services.alerts import alert_resolve, alert_trigger
from tenancy.api.views import TenantAPIView


class AlertIntakeView(TenantAPIView):
    """Monitoring tools: trigger opens (or adds to) one incident per dedup_key; resolve ends it."""

    serializer_class = AlertSerializer
    staff_only = True

    @extend_schema(
        request=AlertSerializer, responses={200: IncidentSerializer, 201: IncidentSerializer}
    )
    def post(self, request) -> Response:
        data = valid(AlertSerializer, request)
        if data["action"] == "resolve":
            incident = alert_resolve(
                actor=self.actor, dedup_key=data["dedup_key"], summary=data.get("summary", "")
            )
            if incident is None:
                from django.http import Http404

                raise Http404(f"No open incident for dedup_key {data['dedup_key']!r}.")
            return incident_response(incident, request)
        incident, created = alert_trigger(
            actor=self.actor,
            dedup_key=data["dedup_key"],
            summary=data["summary"],
            details=data.get("details", ""),
            impact=data["impact"],
            urgency=data["urgency"],
            category=by_slug(Category, self.actor, data.get("category"), "category"),
        )
        return incident_response(incident, request, 201 if created else 200)
