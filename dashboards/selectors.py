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

from django.db.models import (
    BigIntegerField,
    CharField,
    Count,
    DateField,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast
from django.utils import timezone

from dashboards.forms import Scope
from dashboards.models import COUNTERS, DailyRollup, IncidentFact, RollupState
from dashboards.sql import Sample, Spread, percentiles
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


KEYS = ("k_day", "k_priority", "k_group", "k_category")
# Typed NULLs: PostgreSQL resolves an untyped NULL shared by two UNION arms as text.
BLANK = {
    "k_day": Cast(Value(None), DateField()),
    **{key: Cast(Value(None), BigIntegerField()) for key in KEYS[1:]},
}


def _by(qs: QuerySet[DailyRollup], kind: str, key: str, column: str) -> QuerySet:
    keys = {name: (F(column) if name == key else blank) for name, blank in BLANK.items()}
    sums = {name: Sum(name) for name in COUNTERS}
    return qs.values(kind=Value(kind, output_field=CharField()), **keys).annotate(**sums).order_by()


@dataclass
class PeriodCounts:
    per_day: list[tuple[date, dict[str, int]]]
    by_priority: dict[int | None, dict[str, int]]
    by_group: dict[int | None, dict[str, int]]
    by_category: list[tuple[int | None, int]]


def _period_counts(tenant: Tenant, scope: Scope) -> PeriodCounts:
    """The rollup rows of the period summed per day, per priority, per group and per category:
    one statement (a UNION ALL of the four groupings)."""
    qs = _rollups(tenant, scope)
    rows = _by(qs, "day", "k_day", "day").union(
        _by(qs, "priority", "k_priority", "priority_id"),
        _by(qs, "group", "k_group", "group_id"),
        _by(qs, "category", "k_category", "category_id"),
        all=True,
    )
    found: dict[str, dict] = {"day": {}, "priority": {}, "group": {}, "category": {}}
    for row in rows:
        kind = row.pop("kind")
        key = row.pop(f"k_{kind}")
        found[kind][key] = {name: row[name] or 0 for name in COUNTERS}
    zero = dict.fromkeys(COUNTERS, 0)
    sla = lambda counters: {name: counters[name] for name in SLA_COUNTERS}  # noqa: E731
    # Ties by category, "no category" last.
    ranked = sorted(found["category"].items(), key=lambda kv: (-kv[1]["created"], kv[0] is None, kv[0] or 0))
    return PeriodCounts(
        per_day=[(day, found["day"].get(day, zero)) for day in scope.days],
        by_priority={k: sla(v) for k, v in found["priority"].items()},
        by_group={k: sla(v) for k, v in found["group"].items()},
        by_category=[(k, v["created"]) for k, v in ranked if v["created"]][:TOP_CATEGORIES],
    )


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
    (resolved in the period, also per priority): one statement."""
    found = percentiles(
        Sample(_facts(tenant, scope, "acknowledged_at"), list(ACK.values())),
        Sample(_facts(tenant, scope, "resolved_at"), list(RESOLVE.values()), "priority_id"),
    )
    by_priority = {
        level.pk: _spreads(found, RESOLVE, level.pk)
        for level in choices.levels
        if level.is_active or (RESOLVE["wall"], level.pk) in found
    }
    return _spreads(found, ACK), _spreads(found, RESOLVE), by_priority


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
    counts = _period_counts(tenant, scope)
    totals: dict[str, int] = defaultdict(int)
    for _day, counters in counts.per_day:
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
        per_day=counts.per_day,
        totals=dict(totals),
        sla_by_priority=counts.by_priority,
        sla_by_group=counts.by_group,
        top_categories=counts.by_category,
        ack=ack,
        resolve=resolve,
        resolve_by_priority=resolve_by_priority,
        backlog=backlog,
        ageing=ageing,
        workload=_workload(tenant, scope),
    )
