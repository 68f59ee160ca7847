"""What a report reads of its tenant's configuration, kept in the process from one report to
the next.

Every report reads the same rows: its category and the category's group, the matrix cell of its
impact and urgency, the SLA policy and calendar of its level, the escalation policy of its group
and the webhook subscriptions. They change only when someone changes the configuration, and
that renews the tenant's stamp (tenancy/config_stamp.py). A report reads the stamp once it
holds its shared lock on the tenant's configuration, and reuses what an earlier report read
under the same stamp, once that report has committed. An SLA policy missing for a level is
created on first use; like everything read, it is kept only once its report commits. Without
a stamp (SQLite) a report reads everything afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from django.db import transaction

from escalation.calendars import CalendarSpec
from escalation.models import SlaPolicy, WebhookEndpoint
from escalation.services.climb import ClimbStart, climb_start_for
from escalation.services.defaults import calendar_spec, sla_policy_for
from escalation.webhooks import subscribed_endpoints
from incidents.models import Category, PriorityLevel
from incidents.services.priority import priority_derive
from tenancy.config_stamp import report_lock
from tenancy.models import Tenant

MAX_TENANTS = 500  # tenants whose configuration a process keeps, the least recently used go

_kept: OrderedDict[int, tuple[str, dict[Any, Any]]] = OrderedDict()
_kept_lock = Lock()


class ReportConfig:
    """The configuration one report reads, from what is kept under the current stamp."""

    def __init__(self, tenant: Tenant, memo: dict[Any, Any]) -> None:
        self.tenant = tenant
        self._memo = memo

    def _get(self, key: Any, load: Callable[[], Any]) -> Any:
        try:
            return self._memo[key]
        except KeyError:
            value = load()
            if value is not None:
                # Kept once the report commits: what it read may be rows its own transaction
                # wrote (an SLA policy created on first use), gone again if it rolls back.
                transaction.on_commit(lambda: self._memo.setdefault(key, value))
            return value

    def category(self, slug: str) -> Category | None:
        """The active category of that slug, with its group; None if there is none."""
        return self._get(("category", slug), lambda: _active_category(self.tenant, slug))

    def level(self, impact: str, urgency: str) -> PriorityLevel:
        return self._get(
            ("level", impact, urgency),
            lambda: priority_derive(tenant=self.tenant, impact=impact, urgency=urgency),
        )

    def sla(self, level: PriorityLevel) -> tuple[SlaPolicy, CalendarSpec]:
        """The level's policy (created on first use for a level added since install) and its
        calendar."""
        return self._get(("sla", level.pk), lambda: _with_spec(sla_policy_for(level)))

    def climb(self, group_id: int | None) -> ClimbStart | None:
        found = self._get(("climb", group_id), lambda: (climb_start_for(self.tenant.pk, group_id),))
        return found[0]  # in a tuple: no policy is a finding worth keeping too

    def webhooks(self, event: str) -> list[WebhookEndpoint]:
        return self._get(
            ("webhooks", event), lambda: subscribed_endpoints(tenant=self.tenant, event=event)
        )


def _active_category(tenant: Tenant, slug: str) -> Category | None:
    categories = Category.objects.for_tenant(tenant).select_related("group")
    return categories.filter(slug=slug, is_active=True).first()


def _with_spec(policy: SlaPolicy) -> tuple[SlaPolicy, CalendarSpec]:
    return policy, calendar_spec(policy.calendar)


def report_config(tenant: Tenant) -> ReportConfig:
    """Take the report's shared lock on the tenant's configuration (the matrix, policies and
    subscriptions stay as they are until the report commits; a change waits for it) and the
    configuration the stamp stands for."""
    stamp = report_lock(tenant.pk)
    if stamp is None:
        return ReportConfig(tenant, {})
    with _kept_lock:
        kept = _kept.get(tenant.pk)
        if kept is None or kept[0] != stamp:
            kept = _kept[tenant.pk] = (stamp, {})
        _kept.move_to_end(tenant.pk)
        while len(_kept) > MAX_TENANTS:
            _kept.popitem(last=False)
    return ReportConfig(tenant, kept[1])
