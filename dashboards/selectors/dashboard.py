"""Every figure of the manager dashboard, as SQL aggregates (no loop over incidents).

Where each comes from (docs/dashboards.md):
- everything over the period comes from the daily rollups, through dashboards.selectors.period
  (and its cache): counts, exact medians and p90 of the durations the rollup rows keep, and who
  resolved how many;
- everything about open incidents (open now, backlog, ageing, open workload): the incidents
  themselves, live, through the queue index (tenant, state, ...).

A fixed number of queries whatever the size of the tenant or the period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from dashboards.models import RollupState
from dashboards.selectors.period import Period, dimensions, period_figures
from dashboards.selectors.scope import Scope
from dashboards.selectors.sql import Spread
from incidents.models import AssignmentGroup, Category, GroupMember, Incident, PriorityLevel
from incidents.models.incident import OPEN_STATES
from tenancy.models import STAFF_ROLES, Membership, Role, Tenant, User

DAY = timedelta(days=1)
# Ageing of open incidents: (key, label, lower bound, upper bound) of the age since report.
AGE_BUCKETS = (
    ("under_1d", "Under 1 day", timedelta(0), DAY),
    ("d1_3", "1–3 days", DAY, 3 * DAY),
    ("d3_7", "3–7 days", 3 * DAY, 7 * DAY),
    ("over_7d", "Over 7 days", 7 * DAY, None),
)


@dataclass
class AgentLoad:
    user: User
    open: int = 0
    resolved: int = 0


@dataclass
class TenantChoices:
    """The tenant's groups, categories and priority levels: filter choices and chart labels."""

    levels: list[PriorityLevel]
    groups: list[AssignmentGroup]
    categories: list[Category]

    @property
    def active_levels(self) -> list[PriorityLevel]:
        return [level for level in self.levels if level.is_active]


@dataclass
class DashboardData:
    scope: Scope
    now: datetime
    choices: TenantChoices
    refreshed_at: datetime | None
    per_day: list[tuple[date, dict[str, int]]]
    totals: dict[str, int]
    sla_by_priority: dict[int | None, dict[str, int]]
    sla_by_group: dict[int | None, dict[str, int]]
    top_categories: list[tuple[int | None, int]]
    ack: dict[str, Spread]
    resolve: dict[str, Spread]
    resolve_by_priority: dict[int | None, dict[str, Spread]]
    backlog: dict[tuple[int, str], int]
    ageing: dict[str, int]
    workload: list[AgentLoad] = field(default_factory=list)
    refreshing: bool = False  # the page asked a worker for fresher figures

    @property
    def open_now(self) -> int:
        return sum(self.backlog.values())


def tenant_choices(tenant: Tenant) -> TenantChoices:
    return TenantChoices(
        levels=list(PriorityLevel.objects.for_tenant(tenant).order_by("-is_active", "rank")),
        groups=list(AssignmentGroup.objects.for_tenant(tenant).filter(is_active=True)),
        categories=list(Category.objects.for_tenant(tenant).filter(is_active=True)),
    )


def _open(tenant: Tenant, scope: Scope, now: datetime) -> tuple[dict, dict]:
    """Backlog by (priority, state) and ageing of the open incidents: one grouped query."""
    ages = {}
    for key, _label, low, high in AGE_BUCKETS:
        window = Q(reported_at__lte=now - low)
        if high is not None:
            window &= Q(reported_at__gt=now - high)
        ages[key] = Count("id", filter=window)
    rows = (
        Incident.objects.for_tenant(tenant)
        .filter(dimensions(scope), state__in=OPEN_STATES)
        .values("priority_id", "state")
        .annotate(n=Count("id"), **ages)
        .order_by()
    )
    backlog, ageing = {}, dict.fromkeys(ages, 0)
    for row in rows:
        backlog[(row["priority_id"], row["state"])] = row["n"]
        for key in ages:
            ageing[key] += row[key]
    return backlog, ageing


def _workload(tenant: Tenant, scope: Scope, resolved_by: dict[int, int]) -> list[AgentLoad]:
    """Open and resolved-in-period incidents per active agent. Deactivated members and
    inactive users (imported history) are not agents any more: they are left out."""
    members = Membership.objects.for_tenant(tenant).filter(
        is_active=True, user__is_active=True, role__in=STAFF_ROLES
    )
    if scope.group and scope.group != "none":
        in_group = GroupMember.objects.for_tenant(tenant).filter(group_id=int(scope.group))
        members = members.filter(user_id__in=in_group.values("user_id"))
    members = members.select_related("user").order_by("user__full_name", "user__email")
    open_by = dict(
        Incident.objects.for_tenant(tenant)
        .filter(dimensions(scope), state__in=OPEN_STATES, assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    loads = [
        AgentLoad(m.user, open_by.get(m.user_id, 0), resolved_by.get(m.user_id, 0)) for m in members
    ]
    # Managers and admins appear when they hold or resolved incidents; agents always do.
    return [
        load
        for load, m in zip(loads, members, strict=True)
        if m.role == Role.AGENT or load.open or load.resolved
    ]


def _by_priority(period: Period, choices: TenantChoices) -> dict[int | None, dict[str, Spread]]:
    """Time to resolve for every active level (empty where nothing was resolved) and for a
    retired level that still has figures in the period."""
    empty = {"wall": Spread(), "business": Spread()}
    return {
        level.pk: period.resolve_by_priority.get(level.pk, empty)
        for level in choices.levels
        if level.is_active or level.pk in period.resolve_by_priority
    }


def dashboard_data(
    *, tenant: Tenant, scope: Scope, choices: TenantChoices, now: datetime | None = None
) -> DashboardData:
    now = now or timezone.now()
    state = RollupState.objects.for_tenant(tenant).first()
    period = period_figures(tenant, scope, state)
    totals: dict[str, int] = defaultdict(int)
    for _day, counters in period.per_day:
        for name, value in counters.items():
            totals[name] += value or 0
    backlog, ageing = _open(tenant, scope, now)
    return DashboardData(
        scope=scope,
        now=now,
        choices=choices,
        refreshed_at=state.refreshed_at if state else None,
        per_day=period.per_day,
        totals=dict(totals),
        sla_by_priority=period.sla_by_priority,
        sla_by_group=period.sla_by_group,
        top_categories=period.top_categories,
        ack=period.ack,
        resolve=period.resolve,
        resolve_by_priority=_by_priority(period, choices),
        backlog=backlog,
        ageing=ageing,
        workload=_workload(tenant, scope, period.resolved_by),
    )
