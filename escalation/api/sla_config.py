"""SLA configuration over the API: business calendars, SLA targets per priority level and
escalation policies, so a tenant can be configured as code. Any agent-rights key or staff
session reads; writes need the admin scope (or a tenant admin's session) and go through the
same services as the settings pages (escalation/services/config.py), so both refuse the same
input with the same words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.settings import api_settings

from escalation.api import serializers as s
from escalation.models import BusinessCalendar, EscalationLevel, EscalationPolicy, SlaPolicy
from escalation.selectors.sla import sla_policies_for_tenant
from escalation.services import config
from escalation.services.config import LevelInput
from escalation.services.defaults import sla_policy_for
from incidents.models import AssignmentGroup, PriorityLevel
from incidents.selectors.config import staff_users
from tenancy.api.views import TenantAPIView
from tenancy.errors import InvalidInput

CALENDAR_FIELDS = (
    "name", "time_zone", "always_open", "weekly_hours", "holiday_country", "holiday_subdivision",
    "is_default",
)  # fmt: skip
SLA_FIELDS = ("calendar", "response_seconds", "resolution_seconds", "warn_percents", "pause_on")
ESCALATION_FIELDS = ("name", "group", "repeat_count", "calendar", "is_active")
# The services name a weekday's hours as the page's form does.
SERVICE_FIELDS = {f"day_{i}": f"weekly_hours.{day}" for i, day in enumerate(s.DAY_NAMES)}


def flat_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """A serializer's nested errors as one field map: `levels[1].user`, `weekly_hours.monday`
    (a list's own error, such as an empty one, is named by the list: `levels`)."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int):
                name = f"{prefix}[{key}]"
            elif key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
                name = prefix
            else:
                name = ".".join(filter(None, (prefix, str(key))))
            out.update(flat_errors(value, name))
        return out
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        out = {}
        for i, item in enumerate(detail):
            out.update(flat_errors(item, f"{prefix}[{i}]"))
        return out
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(m) for m in messages]}


def _valid(serializer_class, request, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=request.data, partial=partial)
    if not serializer.is_valid():
        raise exceptions.ValidationError(flat_errors(serializer.errors))
    return dict(serializer.validated_data)


@contextmanager
def _refusals() -> Iterator[None]:
    """A service's refusal as the API says it: 400 with the serializer's field name (a refusal
    that is in use answers 409 by itself)."""
    try:
        yield
    except InvalidInput as exc:
        field = SERVICE_FIELDS.get(exc.field or "", exc.field or "non_field_errors")
        raise exceptions.ValidationError({field: [exc.message]}) from None


class SlaConfigView(TenantAPIView):
    admin_write = True
    staff_only = True
    parser_classes = [JSONParser]  # nested hours and levels have no form encoding

    def calendar(self, pk: int, field: str | None = None) -> BusinessCalendar:
        """A calendar of this tenant: 404 in the path, 400 naming `field` in a body."""
        rows = BusinessCalendar.objects.for_tenant(self.tenant).prefetch_related("days_off")
        found = rows.filter(pk=pk).first()
        if found is None:
            if field:
                raise exceptions.ValidationError({field: [f"No calendar {pk} here."]})
            raise Http404("No such calendar here.")
        return found


def _created(data: dict, location: str) -> Response:
    response = Response(data, status=status.HTTP_201_CREATED)
    response["Location"] = location
    return response


# --- calendars ----------------------------------------------------------------------------------


def _days_off(data: dict) -> list[tuple]:
    return [(day["date"], day["name"]) for day in data["days_off"]]


class CalendarListView(SlaConfigView):
    serializer_class = s.CalendarSerializer

    @extend_schema(responses=s.CalendarSerializer(many=True), operation_id="sla_calendars_list")
    def get(self, request) -> Response:
        rows = BusinessCalendar.objects.for_tenant(self.tenant).prefetch_related("days_off")
        return Response(s.CalendarSerializer(rows.order_by("name"), many=True).data)

    @extend_schema(
        request=s.CalendarWriteSerializer,
        responses={201: s.CalendarSerializer},
        operation_id="sla_calendars_create",
    )
    def post(self, request) -> Response:
        data = _valid(s.CalendarWriteSerializer, request)
        values = {name: data[name] for name in CALENDAR_FIELDS if name in data}
        values.setdefault("time_zone", self.tenant.time_zone)
        with _refusals():
            created = config.calendar_save(
                actor=self.actor, calendar=None, values=values, days_off=_days_off(data)
            )
        body = s.CalendarSerializer(self.calendar(created.pk)).data
        return _created(body, f"/api/v1/sla/calendars/{created.pk}/")


class CalendarDetailView(SlaConfigView):
    serializer_class = s.CalendarSerializer

    def get(self, request, pk: int) -> Response:
        return Response(s.CalendarSerializer(self.calendar(pk)).data)

    @extend_schema(request=s.CalendarWriteSerializer, responses=s.CalendarSerializer)
    def patch(self, request, pk: int) -> Response:
        calendar = self.calendar(pk)
        data = _valid(s.CalendarWriteSerializer, request, partial=True)
        days_off = (
            _days_off(data)
            if "days_off" in data
            else [(d.date, d.name) for d in calendar.days_off.all()]
        )
        values = {name: data[name] for name in CALENDAR_FIELDS if name in data}
        with _refusals():
            config.calendar_save(
                actor=self.actor, calendar=calendar, values=values, days_off=days_off
            )
        return Response(s.CalendarSerializer(self.calendar(pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int) -> Response:
        with _refusals():
            config.calendar_delete(actor=self.actor, calendar=self.calendar(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- SLA targets --------------------------------------------------------------------------------


class SlaPolicyListView(SlaConfigView):
    serializer_class = s.SlaPolicySerializer

    @extend_schema(responses=s.SlaPolicySerializer(many=True), operation_id="sla_policies_list")
    def get(self, request) -> Response:
        return Response(s.SlaPolicySerializer(sla_policies_for_tenant(self.tenant), many=True).data)


class SlaPolicyDetailView(SlaConfigView):
    serializer_class = s.SlaPolicySerializer

    def policy(self, priority: str) -> SlaPolicy:
        level = (
            PriorityLevel.objects.for_tenant(self.tenant)
            .filter(slug=priority, is_active=True)
            .first()
        )
        if level is None:
            raise Http404(f"No priority level {priority!r} here.")
        policy = sla_policy_for(level)
        policy.priority = level
        return policy

    def get(self, request, priority: str) -> Response:
        return Response(s.SlaPolicySerializer(self.policy(priority)).data)

    @extend_schema(request=s.SlaPolicyWriteSerializer, responses=s.SlaPolicySerializer)
    def put(self, request, priority: str) -> Response:
        return self._save(priority, partial=False)

    @extend_schema(request=s.SlaPolicyWriteSerializer, responses=s.SlaPolicySerializer)
    def patch(self, request, priority: str) -> Response:
        return self._save(priority, partial=True)

    def _save(self, priority: str, *, partial: bool) -> Response:
        policy = self.policy(priority)
        data = _valid(s.SlaPolicyWriteSerializer, self.request, partial=partial)
        values = {name: getattr(policy, name) for name in SLA_FIELDS}
        values.update(data)
        if "calendar" in data:
            values["calendar"] = self.calendar(data["calendar"], field="calendar")
        with _refusals():
            config.sla_policy_save(actor=self.actor, policy=policy, values=values)
        return Response(s.SlaPolicySerializer(self.policy(priority)).data)


# --- escalation policies ------------------------------------------------------------------------


class EscalationPolicyView(SlaConfigView):
    serializer_class = s.EscalationPolicySerializer

    def rows(self):
        return (
            EscalationPolicy.objects.for_tenant(self.tenant)
            .select_related("group")
            .prefetch_related("levels__user")
        )

    def policy(self, pk: int) -> EscalationPolicy:
        found = self.rows().filter(pk=pk).first()
        if found is None:
            raise Http404("No such escalation policy here.")
        return found

    def values(self, data: dict) -> dict:
        """The policy's fields from a valid body: group by slug, calendar by id."""
        values = {name: data[name] for name in ESCALATION_FIELDS if name in data}
        if values.get("group"):
            group = AssignmentGroup.objects.for_tenant(self.tenant).filter(slug=data["group"])
            values["group"] = group.first()
            if values["group"] is None:
                raise exceptions.ValidationError({"group": [f"No group {data['group']!r} here."]})
        if values.get("calendar"):
            values["calendar"] = self.calendar(data["calendar"], field="calendar")
        return values

    def levels(self, data: list[dict]) -> list[LevelInput]:
        emails = {lvl["user"].lower() for lvl in data if lvl.get("user")}
        staff = dict(staff_users(self.tenant).filter(email__in=emails).values_list("email", "pk"))
        for i, lvl in enumerate(data):
            if lvl.get("user") and lvl["user"].lower() not in staff:
                raise exceptions.ValidationError({f"levels[{i}].user": [config.NOT_STAFF]})
        return [
            LevelInput(
                lvl["after_seconds"],
                lvl["notify"],
                staff.get((lvl.get("user") or "").lower()),
                lvl.get("schedule"),
            )
            for lvl in data
        ]

    def save(self, policy: EscalationPolicy | None, data: dict) -> EscalationPolicy:
        if "levels" in data or policy is None:
            levels = self.levels(data["levels"])
        else:  # a PATCH that leaves the levels alone
            current = EscalationLevel.objects.for_tenant(self.tenant).filter(policy=policy)
            levels = [
                LevelInput(lvl.after_seconds, lvl.notify, lvl.user_id, lvl.schedule_id)
                for lvl in current
            ]
        with _refusals():
            return config.escalation_policy_save(
                actor=self.actor, policy=policy, values=self.values(data), levels=levels
            )


class EscalationPolicyListView(EscalationPolicyView):
    @extend_schema(
        responses=s.EscalationPolicySerializer(many=True), operation_id="escalation_policies_list"
    )
    def get(self, request) -> Response:
        return Response(s.EscalationPolicySerializer(self.rows(), many=True).data)

    @extend_schema(
        request=s.EscalationPolicyWriteSerializer,
        responses={201: s.EscalationPolicySerializer},
        operation_id="escalation_policies_create",
    )
    def post(self, request) -> Response:
        created = self.save(None, _valid(s.EscalationPolicyWriteSerializer, request))
        body = s.EscalationPolicySerializer(self.policy(created.pk)).data
        return _created(body, f"/api/v1/escalation-policies/{created.pk}/")


class EscalationPolicyDetailView(EscalationPolicyView):
    def get(self, request, pk: int) -> Response:
        return Response(s.EscalationPolicySerializer(self.policy(pk)).data)

    @extend_schema(
        request=s.EscalationPolicyWriteSerializer, responses=s.EscalationPolicySerializer
    )
    def put(self, request, pk: int) -> Response:
        policy = self.policy(pk)
        self.save(policy, _valid(s.EscalationPolicyWriteSerializer, request))
        return Response(s.EscalationPolicySerializer(self.policy(pk)).data)

    @extend_schema(
        request=s.EscalationPolicyWriteSerializer, responses=s.EscalationPolicySerializer
    )
    def patch(self, request, pk: int) -> Response:
        policy = self.policy(pk)
        self.save(policy, _valid(s.EscalationPolicyWriteSerializer, request, partial=True))
        return Response(s.EscalationPolicySerializer(self.policy(pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int) -> Response:
        config.escalation_policy_delete(actor=self.actor, policy=self.policy(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
