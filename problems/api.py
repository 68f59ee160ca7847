"""The problems REST API (/api/v1/problems/). Views validate, fetch inside the tenant, call one
service and answer; Idempotency-Key and problem+json come from tenancy's TenantAPIView."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.response import Response

from incidents.api.base import incident_in_body, member_by_email, valid
from incidents.api.serializers import parse_number
from incidents.models import AssignmentGroup, Incident
from problems import serializers as s
from problems import services
from problems.models import Problem
from problems.selectors import parse_problem_reference, problem_for_actor, problem_list
from tenancy.api.views import TenantAPIView


# An API view of one problem, named by the URL's `number` (PRB-000042 or 42); another tenant's
# problem and a missing one are the same 404.
class ProblemAPIView(TenantAPIView):
    staff_only = True

    @cached_property
    def problem(self) -> Problem:
        number = self.kwargs["number"]
        try:
            return problem_for_actor(actor=self.actor, number=parse_problem_reference(number))
        except Http404:
            raise Http404(f"No problem {number} here.") from None

    def answer(self, problem: Problem, code: int = 200) -> Response:
        fresh = problem_for_actor(actor=self.actor, number=problem.number)
        response = Response(s.ProblemItemSerializer(fresh).data, status=code)
        if code == status.HTTP_201_CREATED:
            response["Location"] = response.data["url"]
        return response


class ProblemListView(ProblemAPIView):
    serializer_class = s.ProblemItemSerializer

    @extend_schema(operation_id="problems_list", responses=s.ProblemItemSerializer(many=True))
    def get(self, request) -> Response:
        rows = problem_list(actor=self.actor, state=request.query_params.get("state", "all"))
        return Response(s.ProblemItemSerializer(rows[:200], many=True).data)

    @extend_schema(
        operation_id="problems_create",
        request=s.ProblemCreateSerializer,
        responses={201: s.ProblemItemSerializer},
    )
    def post(self, request) -> Response:
        data = valid(s.ProblemCreateSerializer, request)
        group = None
        if data.get("group"):
            rows = AssignmentGroup.objects.for_tenant(self.tenant).filter(slug=data["group"])
            group = rows.first()
            if group is None:
                raise exceptions.ValidationError({"group": [f"No group {data['group']} here."]})
        owner = member_by_email(self.actor, data["owner"], "owner") if data.get("owner") else None
        problem = services.problem_log(
            actor=self.actor,
            title=data["title"],
            description=data.get("description", ""),
            impact=data["impact"],
            urgency=data["urgency"],
            owner=owner,
            group=group,
            incidents=[incident_in_body(self.actor, n) for n in data.get("incidents", [])],
        )
        return self.answer(problem, status.HTTP_201_CREATED)


class ProblemDetailView(ProblemAPIView):
    serializer_class = s.ProblemItemSerializer

    @extend_schema(operation_id="problems_retrieve")
    def get(self, request, number: str) -> Response:
        return self.answer(self.problem)


class ProblemTransitionView(ProblemAPIView):
    serializer_class = s.ProblemItemSerializer
    action_name = ""

    def post(self, request, number: str) -> Response:
        data: dict[str, Any] = dict(valid(s.TRANSITION_SERIALIZERS[self.action_name], request))
        problem = self.problem
        if self.action_name == "resolve":
            services.problem_resolve(problem=problem, actor=self.actor, **data)
        else:
            service = getattr(services, _SERVICES[self.action_name])
            service(problem=problem, actor=self.actor, **data)
        return self.answer(problem)


_SERVICES = {
    "investigate": "problem_investigate",
    "known_error": "problem_record_known_error",
    "close": "problem_close",
    "cancel": "problem_cancel",
}


def transition_view(action: str) -> type[ProblemTransitionView]:
    """A view per action, so the schema shows each one's request body."""
    name = "".join(part.capitalize() for part in action.split("_"))
    view = type(f"Problem{name}View", (ProblemTransitionView,), {"action_name": action})
    return extend_schema_view(
        post=extend_schema(
            request=s.TRANSITION_SERIALIZERS[action],
            responses=s.ProblemItemSerializer,
            operation_id=f"problems_{action}",
        )
    )(view)


class ProblemIncidentsView(ProblemAPIView):
    serializer_class = s.ProblemIncidentSerializer

    @extend_schema(
        operation_id="problems_incidents_list", responses=s.ProblemIncidentSerializer(many=True)
    )
    def get(self, request, number: str) -> Response:
        rows = Incident.objects.for_tenant(self.tenant).filter(problem_link__problem=self.problem)
        data = s.ProblemIncidentSerializer(rows.order_by("reported_at", "id"), many=True).data
        return Response(data)

    @extend_schema(
        operation_id="problems_incidents_link",
        request=s.ProblemLinkSerializer,
        responses={201: s.ProblemIncidentSerializer},
    )
    def post(self, request, number: str) -> Response:
        data = valid(s.ProblemLinkSerializer, request)
        incident = incident_in_body(self.actor, data["incident"])
        services.problem_link_incident(problem=self.problem, incident=incident, actor=self.actor)
        return Response(s.ProblemIncidentSerializer(incident).data, status=status.HTTP_201_CREATED)


class ProblemIncidentDetailView(ProblemAPIView):
    serializer_class = s.ProblemIncidentSerializer

    @extend_schema(operation_id="problems_incidents_unlink", responses={204: None})
    def delete(self, request, number: str, incident: str) -> Response:
        found = Incident.objects.for_tenant(self.tenant).filter(
            number=parse_number(incident), problem_link__problem=self.problem
        )
        linked = found.first()
        if linked is None:
            raise Http404(f"No incident {incident} linked to {self.problem.reference}.")
        services.problem_unlink_incident(incident=linked, actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
