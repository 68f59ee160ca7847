""" "Breaching soon": the open incidents with a clock past its first warning or breached, the
soonest deadline first (docs/sla.md, "Breaching soon").

Driven from the clocks, not the incidents: the live clocks of the tenant are read in due order
from slaclock_tenant_live_due (its capped count from slaclock_tenant_live_warn), each joined to
its incident, so a page reads about as many index entries as it shows however many incidents
are open. An incident whose two clocks both qualify is listed once, by the one due first. No
incident state is read: a live clock always belongs to an open incident (LIVE_CLOCK_CONDITION).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from escalation.models import SlaClock
from escalation.models.sla import LIVE_CLOCK_CONDITION
from incidents.models import Incident

# The queue's keyset: the representative clock's due time, then its id (unique, and the index's
# own order, so a cursor is one range condition on slaclock_tenant_live_due).
BREACHING_ORDER = ("sla_due", "sla_clock_id")


def _warned(prefix: str, *, tenant_id: int, now: datetime) -> Q:
    """Live clocks of the tenant whose warning time has come (`prefix` reaches the clock)."""
    condition = Q(**{f"{prefix}tenant_id": tenant_id, f"{prefix}warn_at__lte": now})
    for child in LIVE_CLOCK_CONDITION.children:  # the indexes' own predicate, so they serve it
        name, value = child  # type: ignore[misc]
        condition &= Q(**{f"{prefix}{name}": value})
    return condition


def clocks_near_breach(*, tenant_id: int, now: datetime | None = None) -> QuerySet[SlaClock]:
    """The tenant's clocks that put their incident in "Breaching soon" (an open one, by the
    invariant of LIVE_CLOCK_CONDITION: no incident state is read)."""
    return SlaClock.objects.filter(_warned("", tenant_id=tenant_id, now=now or timezone.now()))


def incidents_near_breach_count(*, tenant_id: int, cap: int, now: datetime | None = None) -> int:
    """How many incidents "Breaching soon" holds, exact up to `cap` (more: some number above
    it), from the clocks alone. An incident has at most two clocks, so the first 2 * (cap + 1)
    warned clocks name more than `cap` incidents whenever the queue holds that many; no join
    to the incidents and no probe for an earlier clock per row (25 ms of every desk page of a
    tenant with 10,000 breached incidents, for a tab that shows "999+")."""
    clocks = clocks_near_breach(tenant_id=tenant_id, now=now)
    return len(set(clocks.values_list("incident_id", flat=True)[: 2 * (cap + 1)]))


def incidents_near_breach(
    incidents: QuerySet[Incident], *, tenant_id: int, now: datetime | None = None
) -> QuerySet[Incident]:
    """`incidents` narrowed to those with a clock past its first warning (or breached), one
    row each, annotated with `sla_due` (the soonest such deadline) and `sla_clock_id`.

    The incident's row is joined to its qualifying clocks; a clock stands for its incident
    only when no other qualifying clock of the incident is due before it (a probe of the
    clocks' unique (tenant, incident, metric) index), so the incident appears once, in the
    place of its soonest deadline, and the count agrees with the list."""
    now = now or timezone.now()
    earlier = clocks_near_breach(tenant_id=tenant_id, now=now).filter(
        Q(due_at__lt=OuterRef("sla_due"))
        | Q(due_at=OuterRef("sla_due"), id__lt=OuterRef("sla_clock_id")),
        incident_id=OuterRef("pk"),
    )
    return (
        incidents.filter(_warned("sla_clocks__", tenant_id=tenant_id, now=now))
        .annotate(sla_due=F("sla_clocks__due_at"), sla_clock_id=F("sla_clocks__id"))
        .filter(~Exists(earlier))
    )
