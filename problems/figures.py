"""The problem figures of the manager dashboard: open problems and known errors, the open
incidents a known error explains, and the categories where incidents recur most.

Three queries whatever the size of the tenant or the period. `where` is the dashboard's
group / category / priority filter: problems and incidents both carry those three columns, so
the same condition scopes each (a problem's own group, category and priority).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from incidents.models import Incident
from incidents.models.incident import OPEN_STATES
from problems.models import OPEN_PROBLEM_STATES, Problem, ProblemState
from tenancy.models import Tenant

TOP_CATEGORIES = 5


@dataclass(frozen=True)
class RecurringCategory:
    category_id: int
    name: str
    incidents: int  # reported in the period
    with_problem: int  # of those, linked to a problem already

    @property
    def without_problem(self) -> int:
        return self.incidents - self.with_problem


@dataclass(frozen=True)
class ProblemFigures:
    since: datetime
    until: datetime | None
    open_problems: int  # logged, investigating or known error
    known_errors: int
    incidents_on_known_errors: int  # open incidents whose problem is a known error
    top_categories: list[RecurringCategory]


def problem_figures(
    *,
    tenant: Tenant,
    since: datetime,
    until: datetime | None = None,
    where: Q | None = None,
    limit: int = TOP_CATEGORIES,
) -> ProblemFigures:
    """Open problems and known errors are counted now (like the open incidents); the top
    categories over incidents reported in [since, until)."""
    where = where or Q()
    counts = (
        Problem.objects.for_tenant(tenant)
        .filter(where, state__in=OPEN_PROBLEM_STATES)
        .aggregate(open=Count("id"), known=Count("id", filter=Q(state=ProblemState.KNOWN_ERROR)))
    )
    explained = (
        Incident.objects.for_tenant(tenant)
        .filter(
            where,
            state__in=OPEN_STATES,
            problem_link__problem__state=ProblemState.KNOWN_ERROR,
        )
        .count()
    )
    reported = Q(reported_at__gte=since) & (Q(reported_at__lt=until) if until else Q())
    rows = (
        Incident.objects.for_tenant(tenant)
        .filter(where, reported, category__isnull=False)
        .values("category_id", "category__name")
        .annotate(n=Count("id"), linked=Count("problem_link"))
        .order_by("-n", "category__name")[:limit]
    )
    return ProblemFigures(
        since=since,
        until=until,
        open_problems=counts["open"],
        known_errors=counts["known"],
        incidents_on_known_errors=explained,
        top_categories=[
            RecurringCategory(r["category_id"], r["category__name"], r["n"], r["linked"])
            for r in rows
        ],
    )
