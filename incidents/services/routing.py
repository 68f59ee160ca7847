"""Which group and which agent a new incident goes to."""

from __future__ import annotations

from django.db.models import Count, F, Max, Q

from incidents.models import AssignmentGroup, GroupMember
from incidents.models.incident import OPEN_STATES
from tenancy.models import Membership, Role, User


def auto_assignee(group: AssignmentGroup) -> User | None:
    """The active agent of the group with the fewest open incidents; ties go to the longest idle.

    Idle is measured from the agent's latest assignment among the incidents they hold in the
    tenant, whatever their state; an agent who holds none is the most idle of all.
    """
    agent_ids = (
        Membership.objects.for_tenant(group.tenant_id)
        .filter(
            is_active=True, user__is_active=True, role__in=[Role.AGENT, Role.MANAGER, Role.ADMIN]
        )
        .values("user_id")
    )
    member_ids = (
        GroupMember.objects.for_tenant(group.tenant_id)
        .filter(group=group, user_id__in=agent_ids)
        .values("user_id")
    )
    in_tenant = Q(assigned_incidents__tenant_id=group.tenant_id)
    open_filter = in_tenant & Q(assigned_incidents__state__in=OPEN_STATES)
    candidates = (
        User.objects.filter(id__in=member_ids)
        .annotate(
            open_count=Count("assigned_incidents", filter=open_filter),
            last_assigned=Max("assigned_incidents__assigned_at", filter=in_tenant),
        )
        # PostgreSQL sorts NULLs last and SQLite first: say which, never-assigned goes first.
        .order_by("open_count", F("last_assigned").asc(nulls_first=True), "id")
    )
    return candidates.first()
