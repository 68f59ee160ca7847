"""Keeping the dashboards' derived tables current: the refresh (incremental, every few minutes
from beat) and the rebuild (everything, from `manage.py rebuild_dashboard_rollups`).

A refresh finds the incidents that changed since the last one (their updated_at moves on every
write; new ids cover imported history written with old times; clocks the sweep breached are
found by their breach time, since a breach writes no incident row), rewrites their fact rows,
recomputes the rollup rows of every day those facts are or were counted on, and rewrites the
running totals of durations from the first day one of theirs is or was counted on. Each tenant's
refresh holds its RollupState row locked, so two refreshes of one tenant never interleave.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from dashboards.models import RollupState
from dashboards.selectors.histograms import HISTOGRAM_INSTANTS, histograms_write
from dashboards.selectors.period import figures_warm
from dashboards.selectors.windows import windows_ensure
from dashboards.services.facts import DAY_COLUMNS, fact_days, facts_upsert
from dashboards.services.rollup import rollups_write
from escalation.models import SlaClock
from incidents.models import Incident
from tenancy.models import Tenant

log = logging.getLogger(__name__)

# Rows written by a transaction that committed after the last refresh started, with an
# updated_at a little before it, still fall inside the next refresh.
REFRESH_OVERLAP = timedelta(minutes=10)
# A sweep that was down writes breaches late, dated when they were due.
BREACH_OVERLAP = timedelta(days=1)
BATCH = 2000
# The instants the daily rollups count on (durations count on theirs, HISTOGRAM_INSTANTS).
ROLLUP_SOURCES = (*(c for c in DAY_COLUMNS if c != "acknowledged_at"), "events")


@dataclass(frozen=True)
class RefreshResult:
    tenant: str
    incidents: int = 0  # fact rows written
    days: int = 0  # days whose rollup rows were recomputed (a rebuild: all)
    rows: int = 0  # rollup rows written
    rebuilt: bool = False
    skipped: bool = False


def _state(tenant: Tenant) -> RollupState:
    found = RollupState.objects.for_tenant(tenant).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return RollupState.objects.create(tenant=tenant)
    except IntegrityError:
        return RollupState.objects.for_tenant(tenant).get()


def _locked_state(tenant: Tenant) -> RollupState | None:
    """The tenant's state row, locked; None while another refresh holds it."""
    pk = _state(tenant).pk
    return (
        RollupState.objects.for_tenant(tenant)
        .select_for_update(skip_locked=True)
        .filter(pk=pk)
        .first()
    )


def changed_incident_ids(tenant: Tenant, since: datetime, last_id: int) -> list[int]:
    incidents = Incident.objects.for_tenant(tenant).filter(
        Q(updated_at__gte=since) | Q(pk__gt=last_id)
    )
    breached = SlaClock.objects.for_tenant(tenant).filter(breached_at__gte=since - BREACH_OVERLAP)
    ids = set(incidents.values_list("id", flat=True))
    ids.update(breached.values_list("incident_id", flat=True))
    return sorted(ids)


def rollups_refresh(*, tenant: Tenant) -> RefreshResult:
    """Bring the tenant's facts and rollups up to now (a rebuild the first time)."""
    with transaction.atomic():
        state = _locked_state(tenant)
        if state is None:
            return RefreshResult(tenant.slug, skipped=True)
        if state.refreshed_at is None:
            return _rebuild(tenant, state)
        started = timezone.now()
        ids = changed_incident_ids(
            tenant, state.refreshed_at - REFRESH_OVERLAP, state.last_incident_id
        )
        windows_ensure(tenant=tenant, state=state, now=started)
        tz = ZoneInfo(tenant.time_zone)
        dirty: dict[str, set[date]] = defaultdict(set)
        for i in range(0, len(ids), BATCH):
            batch = ids[i : i + BATCH]
            _note(dirty, fact_days(tenant, batch, tz))  # where they were counted before
            facts_upsert(tenant, batch, started)
            _note(dirty, fact_days(tenant, batch, tz))  # and where they count now
        rows = rollups_write(tenant, _days(dirty, ROLLUP_SOURCES), tz)
        durations_days = _days(dirty, HISTOGRAM_INSTANTS)
        if durations_days:
            histograms_write(tenant=tenant, state=state, tz=tz, since=min(durations_days))
        dirty_any = _days(dirty, dirty.keys())
        state.refreshed_at = started
        state.last_incident_id = max([state.last_incident_id, *ids])
        # New figures (or a new day, which moves "the last 30 days"): a new version.
        if dirty_any or state.warmed_on != started.astimezone(tz).date():
            _publish(tenant, state, started)
        else:
            state.save()
    return RefreshResult(tenant.slug, incidents=len(ids), days=len(dirty_any), rows=rows)


def _note(dirty: dict[str, set[date]], found: dict[str, set[date]]) -> None:
    for source, days in found.items():
        dirty[source] |= days


def _days(dirty: dict[str, set[date]], sources: Iterable[str]) -> set[date]:
    return set().union(*(dirty.get(source, set()) for source in sources))


def _publish(tenant: Tenant, state: RollupState, now: datetime) -> None:
    """A new version of the figures: cached ones go, the standard periods are computed."""
    state.version += 1
    state.warmed_on = now.astimezone(ZoneInfo(tenant.time_zone)).date()
    state.save()
    figures_warm(tenant=tenant, state=state)


def rollups_rebuild(*, tenant: Tenant) -> RefreshResult:
    """Recompute every fact and rollup row of the tenant (after a calendar or time-zone change,
    or to repair anything)."""
    with transaction.atomic():
        state = _locked_state(tenant)
        if state is None:
            return RefreshResult(tenant.slug, skipped=True)
        return _rebuild(tenant, state)


def _rebuild(tenant: Tenant, state: RollupState) -> RefreshResult:
    started = timezone.now()
    state.windows_from = state.windows_until = None  # rewrite them from the earliest breach
    windows_ensure(tenant=tenant, state=state, now=started)
    incidents = facts_upsert(tenant, None, started)
    tz = ZoneInfo(tenant.time_zone)
    rows = rollups_write(tenant, None, tz)
    histograms_write(tenant=tenant, state=state, tz=tz, since=None)
    last = Incident.objects.for_tenant(tenant).aggregate(last=Max("id"))["last"]
    state.refreshed_at = state.rebuilt_at = started
    state.last_incident_id = last or 0
    _publish(tenant, state, started)
    log.info("dashboards: rebuilt %s (%s incidents, %s rollup rows)", tenant.slug, incidents, rows)
    return RefreshResult(tenant.slug, incidents=incidents, rows=rows, rebuilt=True)
