"""Reads for the settings pages: each list is a fixed number of queries whatever its length."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from incidents.models import (
    AssignmentGroup,
    Category,
    GroupMember,
    Level,
    PriorityLevel,
    ResolutionCode,
)
from incidents.services.priority import matrix_for
from tenancy.models import STAFF_ROLES, Tenant, TenantQuerySet, User


def staff_users(tenant: Tenant) -> QuerySet[User]:
    """Who may lead or join a group: the tenant's active agents, managers and admins."""
    return User.objects.filter(
        is_active=True,
        memberships__tenant=tenant,
        memberships__is_active=True,
        memberships__role__in=STAFF_ROLES,
    ).order_by("full_name", "email")


def groups_for_settings(tenant: Tenant) -> TenantQuerySet:
    members = (
        GroupMember.objects.for_tenant(tenant)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return (
        AssignmentGroup.objects.for_tenant(tenant)
        .select_related("lead")
        .annotate(category_count=Count("categories", distinct=True))
        .prefetch_related(Prefetch("members", queryset=members))
        .order_by("-is_active", "name")
    )


def categories_for_settings(tenant: Tenant) -> QuerySet[Category]:
    return (
        Category.objects.for_tenant(tenant).select_related("group").order_by("-is_active", "name")
    )


def resolution_codes_for_settings(tenant: Tenant) -> QuerySet[ResolutionCode]:
    return ResolutionCode.objects.for_tenant(tenant).order_by("-is_active", "label")


def priority_scale(tenant: Tenant) -> list[PriorityLevel]:
    return list(PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank"))


def matrix_grid(tenant: Tenant) -> list[tuple[str, list[PriorityLevel | None]]]:
    """The current matrix as rows of (impact label, level per urgency high/medium/low)."""
    matrix = matrix_for(tenant)
    return [
        (impact.label, [matrix.get(impact.value, {}).get(u.value) for u in Level])
        for impact in Level
    ]
