"""What a report reads of its tenant's configuration, kept in the process from one report to the
next.

Every report reads the same rows: its category and the category's group, the matrix cell of its
impact and urgency, and what the receivers of its hooks read into the same memo (escalation: the
SLA policy and calendar of its level, the escalation policy of its group and the webhook
subscriptions; escalation/receivers.py). They change only when someone changes the
configuration, and that renews the tenant's stamp (tenancy/config_stamp.py). A report reads the
stamp once it holds its shared lock on the tenant's configuration, and reuses what an earlier
report read under the same stamp, once that report has committed. An SLA policy missing for a
level is created on first use; like everything read, it is kept only once its report commits.
Without a stamp (SQLite) a report reads everything afresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

from django.db import transaction

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

    def memo(self, key: Any, load: Callable[[], Any]) -> Any:
        """What `load` reads, kept under `key` for the next reports of the same stamp (a value
        of None is read again each time: wrap a finding of nothing in a tuple to keep it)."""
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
        return self.memo(("category", slug), lambda: _active_category(self.tenant, slug))

    def level(self, impact: str, urgency: str) -> PriorityLevel:
        return self.memo(
            ("level", impact, urgency),
            lambda: priority_derive(tenant=self.tenant, impact=impact, urgency=urgency),
        )


def _active_category(tenant: Tenant, slug: str) -> Category | None:
    categories = Category.objects.for_tenant(tenant).select_related("group")
    return categories.filter(slug=slug, is_active=True).first()


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
