"""Configuration resources: categories, groups, resolution codes, the priority matrix.

Readable by every key and agent (groups: the desk only); written with the admin scope or an
admin's session, through incidents.services.config like the settings pages. Items are named by
slug inside the key's tenant. Nothing is deleted, since incidents and their events keep naming
it: `PATCH {"is_active": false}` takes an item off the lists, `true` puts it back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from incidents.api import serializers as s
from incidents.api.base import by_slug, member_by_email, members_by_email, valid
from incidents.models import AssignmentGroup, Category, PriorityLevel, ResolutionCode
from incidents.services import config, matrix_set
from incidents.services.priority import matrix_for
from tenancy.api.views import TenantAPIView


class ConfigView(TenantAPIView):
    """One kind of configuration item; subclasses name the model, serializers and services."""

    admin_write = True
    model: type[Model]
    what = ""
    detail_name = ""
    write_serializer: type[serializers.Serializer]
    patch_serializer: type[serializers.Serializer]
    # The (de)activation services and the name under which they take the item.
    deactivate: Any = None
    reactivate: Any = None
    item_argument = ""

    def rows(self) -> QuerySet:
        return self.model.objects.for_tenant(self.tenant)  # type: ignore[attr-defined]

    def item(self, slug: str) -> Any:
        # PostgreSQL refuses NUL in a string: such a slug names nothing.
        found = None if "\x00" in slug else self.rows().filter(slug=slug).first()
        if found is None:
            raise Http404(f"No {self.what} {slug!r} here.")
        return found

    def answer(self, obj: Any, code: int = status.HTTP_200_OK) -> Response:
        obj = self.item(obj.slug)  # read again with its related rows, as a GET would
        response = Response(self.serializer_class(obj).data, status=code)
        if code == status.HTTP_201_CREATED:
            response["Location"] = reverse(self.detail_name, kwargs={"slug": obj.slug})
        return response

    # Each kind creates and changes its rows through its own services.
    create: Callable[[dict], Any]
    update: Callable[[Any, dict], Any]

    def activation(self, obj: Any, data: dict) -> Any:
        """Deactivate or reactivate through the services when the body's is_active differs."""
        wanted = data.get("is_active", obj.is_active)
        if wanted == obj.is_active:
            return obj
        service = self.reactivate if wanted else self.deactivate
        return service(actor=self.actor, **{self.item_argument: obj})


class ConfigListView(ConfigView):
    def get(self, request) -> Response:
        return Response(self.serializer_class(self.rows(), many=True).data)

    def post(self, request) -> Response:
        data = valid(self.write_serializer, request)
        with transaction.atomic():  # created and, when asked, deactivated: both or neither
            obj = self.create(data)
        return self.answer(obj, status.HTTP_201_CREATED)


class ConfigDetailView(ConfigView):
    def get(self, request, slug: str) -> Response:
        return Response(self.serializer_class(self.item(slug)).data)

    def patch(self, request, slug: str) -> Response:
        obj = self.item(slug)
        data = valid(self.patch_serializer, request)
        with transaction.atomic():
            obj = self.update(obj, data)
        return self.answer(obj)


def _views(base: type[ConfigView]) -> tuple[type[ConfigListView], type[ConfigDetailView]]:
    """The list and the item view of one kind, each with its request bodies in the schema."""
    name, read = base.__name__.removesuffix("View"), base.serializer_class
    list_view = type(f"{name}ListView", (base, ConfigListView), {})
    detail_view = type(f"{name}DetailView", (base, ConfigDetailView), {})
    return (
        extend_schema_view(
            get=extend_schema(responses=read(many=True)),
            post=extend_schema(request=base.write_serializer, responses={201: read}),
        )(list_view),
        extend_schema_view(patch=extend_schema(request=base.patch_serializer, responses=read))(
            detail_view
        ),
    )


# --- categories ---------------------------------------------------------------------------
class CategoryView(ConfigView):
    model = Category
    what = "category"
    detail_name = "api-category"
    serializer_class = s.CategorySerializer
    write_serializer = s.CategoryWriteSerializer
    patch_serializer = s.CategoryPatchSerializer
    deactivate = staticmethod(config.category_deactivate)
    reactivate = staticmethod(config.category_reactivate)
    item_argument = "category"

    def rows(self) -> QuerySet:
        return super().rows().select_related("group")

    def _group(self, data: dict, current: AssignmentGroup | None) -> AssignmentGroup | None:
        if "group" not in data:
            return current
        return by_slug(AssignmentGroup, self.actor, data["group"], "group", active_only=False)

    def create(self, data: dict) -> Category:
        category = config.category_create(
            actor=self.actor,
            name=data["name"],
            slug=data.get("slug", ""),
            group=self._group(data, None),
        )
        return self.activation(category, data)

    def update(self, category: Category, data: dict) -> Category:
        if {"name", "slug", "group"} & data.keys():
            category = config.category_update(
                actor=self.actor,
                category=category,
                name=data.get("name", category.name),
                slug=data.get("slug", category.slug),
                group=self._group(data, category.group),
            )
        return self.activation(category, data)


CategoryListView, CategoryDetailView = _views(CategoryView)


# --- assignment groups --------------------------------------------------------------------
class GroupView(ConfigView):
    model = AssignmentGroup
    what = "group"
    detail_name = "api-group"
    staff_only = True
    serializer_class = s.GroupSerializer
    write_serializer = s.GroupWriteSerializer
    patch_serializer = s.GroupPatchSerializer

    def rows(self) -> QuerySet:
        return super().rows().select_related("lead").prefetch_related("members__user")

    def create(self, data: dict) -> AssignmentGroup:
        return config.group_create(actor=self.actor, **self._people(data))

    def update(self, group: AssignmentGroup, data: dict) -> AssignmentGroup:
        current = {
            "name": group.name,
            "slug": group.slug,
            "description": group.description,
            "lead": group.lead,
            "members": [m.user for m in group.members.all()],
            "auto_assign": group.auto_assign,
            "is_active": group.is_active,
        }
        changes = {**current, **self._people(data)}
        return config.group_update(actor=self.actor, group=group, **changes)

    def _people(self, data: dict) -> dict:
        """The body with its addresses turned into members of the desk."""
        data = dict(data)
        if "lead" in data:
            data["lead"] = member_by_email(self.actor, data["lead"], "lead")
        if "members" in data:
            data["members"] = members_by_email(self.actor, data["members"], "members")
        return data


GroupListView, GroupDetailView = _views(GroupView)


# --- resolution codes ---------------------------------------------------------------------
class ResolutionCodeView(ConfigView):
    model = ResolutionCode
    what = "resolution code"
    detail_name = "api-resolution-code"
    serializer_class = s.ResolutionCodeSerializer
    write_serializer = s.ResolutionCodeWriteSerializer
    patch_serializer = s.ResolutionCodePatchSerializer
    deactivate = staticmethod(config.resolution_code_deactivate)
    reactivate = staticmethod(config.resolution_code_reactivate)
    item_argument = "code"

    def create(self, data: dict) -> ResolutionCode:
        code = config.resolution_code_create(
            actor=self.actor, label=data["label"], slug=data.get("slug", "")
        )
        return self.activation(code, data)

    def update(self, code: ResolutionCode, data: dict) -> ResolutionCode:
        if data.get("slug", code.slug) != code.slug:
            raise exceptions.ValidationError(
                {"slug": ["A resolution code keeps its slug: resolved incidents name it."]}
            )
        if "label" in data:
            code = config.resolution_code_rename(actor=self.actor, code=code, label=data["label"])
        return self.activation(code, data)


ResolutionCodeListView, ResolutionCodeDetailView = _views(ResolutionCodeView)


# --- the priority matrix ------------------------------------------------------------------
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
