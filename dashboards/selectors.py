"""Every figure of the manager dashboard, as SQL aggregates (no loop over incidents).

Where each comes from (docs/ARCHITECTURE.md, "Dashboards"):
- counts over the period (created, resolved, SLA outcomes, resolutions and reopens,
  satisfaction): DailyRollup, a few thousand rows for a year of a large tenant;
- medians and p90 (time to acknowledge, time to resolve): IncidentFact, percentile_cont;
- workload resolved in the period: IncidentFact;
- everything about open incidents (open now, backlog, ageing, open workload): the incidents
  themselves, live, through the queue index (tenant, state, ...).

A fixed number of queries whatever the size of the tenant or the period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from dashboards.forms import Scope
from dashboards.models import COUNTERS, DailyRollup, IncidentFact, RollupState
from dashboards.sql import Spread, percentiles
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
SLA_COUNTERS = ("response_met", "response_breached", "resolution_met", "resolution_breached")
TOP_CATEGORIES = 10


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


def _dimensions(scope: Scope, prefix: str = "") -> Q:
    """The scope's group / category / priority filters on a table with those columns."""
    condition = Q()
    for name in ("group", "category"):
        value = getattr(scope, name)
        if value == "none":
            condition &= Q(**{f"{prefix}{name}__isnull": True})
        elif value:
            condition &= Q(**{f"{prefix}{name}_id": int(value)})
    if scope.priority:
        condition &= Q(**{f"{prefix}priority_id": int(scope.priority)})
    return condition


def _rollups(tenant: Tenant, scope: Scope) -> QuerySet[DailyRollup]:
    return DailyRollup.objects.for_tenant(tenant).filter(
        _dimensions(scope), day__gte=scope.date_from, day__lte=scope.date_to
    )


def _sums(names=COUNTERS) -> dict[str, Sum]:
    return {name: Sum(name) for name in names}


def _per_day(tenant: Tenant, scope: Scope) -> list[tuple[date, dict[str, int]]]:
    """Every day of the scope with its counters (zeros on a day without rows)."""
    found = {
        row.pop("day"): row
        for row in _rollups(tenant, scope).values("day").annotate(**_sums()).order_by("day")
    }
    zero = dict.fromkeys(COUNTERS, 0)
    return [(day, found.get(day, zero)) for day in scope.days]


def _sla_by(tenant: Tenant, scope: Scope, column: str) -> dict[int | None, dict[str, int]]:
    rows = _rollups(tenant, scope).values(column).annotate(**_sums(SLA_COUNTERS)).order_by()
    return {row.pop(column): row for row in rows}


def _top_categories(tenant: Tenant, scope: Scope) -> list[tuple[int | None, int]]:
    rows = (
        _rollups(tenant, scope)
        .values("category_id")
        .annotate(created=Sum("created"))
        .filter(created__gt=0)
        # Ties by category, "no category" last on every database.
        .order_by("-created", F("category_id").asc(nulls_last=True))[:TOP_CATEGORIES]
    )
    return [(row["category_id"], row["created"]) for row in rows]


def _facts(tenant: Tenant, scope: Scope, at: str) -> QuerySet[IncidentFact]:
    return IncidentFact.objects.for_tenant(tenant).filter(
        _dimensions(scope), **{f"{at}__gte": scope.start, f"{at}__lt": scope.end}
    )


def _spreads(found: dict, names: dict[str, str], group=None) -> dict[str, Spread]:
    return {key: found.get((column, group), Spread()) for key, column in names.items()}


ACK = {"wall": "ack_seconds", "business": "ack_business_seconds"}
RESOLVE = {"wall": "resolve_seconds", "business": "resolve_business_seconds"}


def _durations(tenant: Tenant, scope: Scope, choices: TenantChoices):
    """Median and p90 of the time to acknowledge (acknowledged in the period) and to resolve
    (resolved in the period), overall and per priority for resolution: two statements."""
    ack = percentiles(_facts(tenant, scope, "acknowledged_at"), list(ACK.values()))
    resolve = percentiles(
        _facts(tenant, scope, "resolved_at"), list(RESOLVE.values()), group="priority_id"
    )
    by_priority = {
        level.pk: _spreads(resolve, RESOLVE, level.pk)
        for level in choices.levels
        if level.is_active or (RESOLVE["wall"], level.pk) in resolve
    }
    return _spreads(ack, ACK), _spreads(resolve, RESOLVE), by_priority


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
        .filter(_dimensions(scope), state__in=OPEN_STATES)
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


def _workload(tenant: Tenant, scope: Scope) -> list[AgentLoad]:
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
        .filter(_dimensions(scope), state__in=OPEN_STATES, assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    resolved_by = dict(
        _facts(tenant, scope, "resolved_at")
        .filter(assignee__isnull=False)
        .values_list("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    loads = [
        AgentLoad(m.user, open_by.get(m.user_id, 0), resolved_by.get(m.user_id, 0))
        for m in members
    ]
    # Managers and admins appear when they hold or resolved incidents; agents always do.
    return [
        load
        for load, m in zip(loads, members, strict=True)
        if m.role == Role.AGENT or load.open or load.resolved
    ]


def dashboard_data(
    *, tenant: Tenant, scope: Scope, choices: TenantChoices, now: datetime | None = None
) -> DashboardData:
    now = now or timezone.now()
    per_day = _per_day(tenant, scope)
    totals: dict[str, int] = defaultdict(int)
    for _day, counters in per_day:
        for name, value in counters.items():
            totals[name] += value or 0
    ack, resolve, resolve_by_priority = _durations(tenant, scope, choices)
    backlog, ageing = _open(tenant, scope, now)
    state = RollupState.objects.for_tenant(tenant).only("refreshed_at").first()
    return DashboardData(
        scope=scope,
        now=now,
        choices=choices,
        refreshed_at=state.refreshed_at if state else None,
        per_day=per_day,
        totals=dict(totals),
        sla_by_priority=_sla_by(tenant, scope, "priority_id"),
        sla_by_group=_sla_by(tenant, scope, "group_id"),
        top_categories=_top_categories(tenant, scope),
        ack=ack,
        resolve=resolve,
        resolve_by_priority=resolve_by_priority,
        backlog=backlog,
        ageing=ageing,
        workload=_workload(tenant, scope),
    )
