"""The on-call REST API (/api/v1/oncall/), for the desk's staff: the schedules and who is on
call in them now, or at a given instant. Another tenant's schedule is a 404."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from oncall import serializers as s
from oncall.selectors import on_call, schedules_for_actor
from tenancy.api.views import TenantAPIView
from tenancy.inputs import whole_number


def _row(schedule) -> dict:
    now = on_call(schedule)
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "fallback": schedule.fallback,
        "on_call_now": now,
    }


# The schedules, agents and up. (Comments, not docstrings: drf-spectacular would print them.)
class ScheduleListView(TenantAPIView):
    staff_only = True
    serializer_class = s.ScheduleSerializer

    @extend_schema(operation_id="oncall_schedules_list", responses=s.ScheduleSerializer(many=True))
    def get(self, request) -> Response:
        rows = [_row(x) for x in schedules_for_actor(actor=self.actor)]
        return Response(s.ScheduleSerializer(rows, many=True).data)


AT = OpenApiParameter(
    "at",
    OpenApiTypes.DATETIME,
    description="The instant to ask about (ISO 8601 with an offset); default: now.",
)


class OnCallView(TenantAPIView):
    staff_only = True
    serializer_class = s.OnCallSerializer

    @extend_schema(
        operation_id="oncall_schedules_on_call", parameters=[AT], responses=s.OnCallSerializer
    )
    def get(self, request, pk: str) -> Response:
        number = whole_number(pk)
        schedule = (
            schedules_for_actor(actor=self.actor).filter(pk=number).first() if number else None
        )
        if schedule is None:
            raise Http404(f"No schedule {pk} here.")
        raw = request.query_params.get("at", "")
        at = parse_datetime(raw) if raw else timezone.now()
        if at is None or timezone.is_naive(at):
            raise exceptions.ValidationError(
                {"at": ["Give an ISO 8601 time with its offset, like 2026-03-01T14:30:00Z."]}
            )
        return Response(s.OnCallSerializer(on_call(schedule, at)).data)
