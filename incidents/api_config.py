"""Configuration resources: categories, groups, resolution codes, the priority matrix.
Readable by every key and agent; the matrix is writable with the admin scope or role."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from incidents import serializers as s
from incidents.models import AssignmentGroup, Category, PriorityLevel, ResolutionCode
from incidents.services import matrix_set
from incidents.services.priority import matrix_for
from servicedesk.api.views import TenantAPIView


class CategoryListView(TenantAPIView):
    serializer_class = s.CategorySerializer

    @extend_schema(responses=s.CategorySerializer(many=True))
    def get(self, request) -> Response:
        rows = Category.objects.for_tenant(self.tenant).select_related("group")
        return Response(s.CategorySerializer(rows, many=True).data)


class GroupListView(TenantAPIView):
    serializer_class = s.GroupSerializer
    staff_only = True

    @extend_schema(responses=s.GroupSerializer(many=True))
    def get(self, request) -> Response:
        rows = AssignmentGroup.objects.for_tenant(self.tenant).select_related("lead")
        rows = rows.prefetch_related("members__user")
        return Response(s.GroupSerializer(rows, many=True).data)


class ResolutionCodeListView(TenantAPIView):
    serializer_class = s.ResolutionCodeSerializer

    @extend_schema(responses=s.ResolutionCodeSerializer(many=True))
    def get(self, request) -> Response:
        rows = ResolutionCode.objects.for_tenant(self.tenant)
        return Response(s.ResolutionCodeSerializer(rows, many=True).data)


def matrix_payload(tenant) -> dict:
    scale = PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank")
    matrix = {
        impact: {urgency: level.slug for urgency, level in row.items()}
        for impact, row in matrix_for(tenant).items()
    }
    return {
        "scale": [{"slug": v.slug, "label": v.label, "rank": v.rank} for v in scale],
        "matrix": matrix,
    }


class PriorityMatrixView(TenantAPIView):
    serializer_class = s.PriorityMatrixSerializer
    admin_write = True

    def get(self, request) -> Response:
        return Response(matrix_payload(self.tenant))

    @extend_schema(request=s.PriorityMatrixSerializer, responses=s.PriorityMatrixSerializer)
    def put(self, request) -> Response:
        serializer = s.PriorityMatrixSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        matrix_set(
            actor=self.actor,
            scale=[(level["slug"], level["label"]) for level in data["scale"]],
            matrix=data["matrix"],
        )
        return Response(matrix_payload(self.tenant))
