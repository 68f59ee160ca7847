"""The sweep: fire the checkpoints of running clocks and the levels of climbing runs that have
come due, in batches claimed with SELECT ... FOR UPDATE SKIP LOCKED.

Two sweepers never take the same row (the second skips what the first holds), a crashed one
loses nothing (its transaction rolls back and the rows are due again), and every alert has a
natural unique key, so a replay inserts nothing. On SQLite, which has no row locks, the
IMMEDIATE transaction of settings.py takes the database's write lock at BEGIN: sweepers queue.

The clock path is set-based: one claiming SELECT, one multi-row INSERT of alerts and one
multi-row UPDATE per batch, with no calendar arithmetic (the instants were computed when the
clock started or resumed).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from escalation.models import (
    AuditStatus,
    ClockState,
    EscalationLevel,
    EscalationRun,
    RunState,
    SlaAlert,
    SlaClock,
)
from escalation.services.climb import run_advance
from escalation.services.clocks import BREACH, alert_for, split_due

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claimed: int = 0
    alerts: int = 0

    def add(self, other: SweepResult) -> None:
        self.claimed += other.claimed
        self.alerts += other.alerts


# --- clocks -----------------------------------------------------------------------------------


def _claim_clocks(now: datetime, limit: int) -> list[tuple]:
    return list(
        SlaClock.objects.filter(state=ClockState.RUNNING, next_check_at__lte=now)
        .order_by("next_check_at")  # served by the partial index slaclock_due
        .select_for_update(skip_locked=True)
        .values_list("id", "tenant_id", "incident_id", "checkpoints")[:limit]
    )


def _plan(rows: list[tuple], now: datetime) -> tuple[list[SlaAlert], list[tuple]]:
    """Alerts to write and (id, remaining checkpoints, next check, breached at) per clock."""
    alerts: list[SlaAlert] = []
    updates: list[tuple] = []
    for clock_id, tenant_id, incident_id, checkpoints in rows:
        fired, remaining = split_due(checkpoints, now)
        breached_at = None
        for percent, at in fired:
            alerts.append(alert_for((clock_id, tenant_id, incident_id), int(percent),
                                    datetime.fromisoformat(at)))  # fmt: skip
            if int(percent) >= BREACH:
                breached_at = at
        if breached_at:
            remaining = []
        next_at = remaining[0][1] if remaining else None
        updates.append((clock_id, json.dumps(remaining), next_at, breached_at))
    return alerts, updates


_PG_UPDATE = """
UPDATE escalation_slaclock AS c SET
  checkpoints = v.cp::jsonb,
  next_check_at = v.nxt::timestamptz,
  state = CASE WHEN v.br IS NULL THEN c.state ELSE 'breached' END,
  breached_at = COALESCE(v.br::timestamptz, c.breached_at),
  spent = CASE WHEN v.br IS NULL THEN c.spent ELSE make_interval(secs => c.target_seconds) END,
  running_since = CASE WHEN v.br IS NULL THEN c.running_since END
FROM (VALUES %s) AS v(id, cp, nxt, br) WHERE c.id = v.id
"""
_GENERIC_UPDATE = """
UPDATE escalation_slaclock SET
  checkpoints = %s,
  next_check_at = %s,
  state = CASE WHEN %s IS NULL THEN state ELSE 'breached' END,
  breached_at = COALESCE(%s, breached_at),
  spent = CASE WHEN %s IS NULL THEN spent ELSE target_seconds * 1000000 END,
  running_since = CASE WHEN %s IS NULL THEN running_since END
WHERE id = %s
"""


def _write_clocks(updates: list[tuple]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor.cursor, _PG_UPDATE, updates, page_size=len(updates))
            return
        params = []
        for clock_id, cp, nxt, br in updates:
            nxt = _sqlite_time(nxt)
            br = _sqlite_time(br)
            params.append((cp, nxt, br, br, br, br, clock_id))
        cursor.executemany(_GENERIC_UPDATE, params)


def _sqlite_time(value: str | None) -> str | None:
    # Django stores aware datetimes on SQLite as naive UTC text.
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def sweep_clock_batch(*, now: datetime, limit: int) -> SweepResult:
    with transaction.atomic():
        rows = _claim_clocks(now, limit)
        if not rows:
            return SweepResult()
        alerts, updates = _plan(rows, now)
        SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=2000)
        _write_clocks(updates)
    return SweepResult(len(rows), len(alerts))


# --- escalation runs --------------------------------------------------------------------------


def sweep_run_batch(*, now: datetime, limit: int) -> SweepResult:
    with transaction.atomic():
        runs = list(
            EscalationRun.objects.filter(state=RunState.CLIMBING, next_check_at__lte=now)
            .select_related("policy__calendar")
            .prefetch_related(Prefetch("policy__levels", EscalationLevel.objects.order_by("position")))
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_check_at")[:limit]
        )
        alerts: list[SlaAlert] = []
        for run in runs:
            levels = list(run.policy.levels.all()) if run.policy else []
            step = run_advance(run, run.policy, levels, now)
            alerts += step.alerts
            run.level, run.repeat, run.state = step.level, step.repeat, step.state
            run.next_check_at = step.next_check_at
            run.save(update_fields=["level", "repeat", "state", "next_check_at"])
        SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    return SweepResult(len(runs), len(alerts))


# --- the task body ----------------------------------------------------------------------------


def sweep_due(*, now: datetime | None = None, batch_size: int | None = None,
              max_seconds: float | None = None) -> SweepResult:  # fmt: skip
    """Drain what is due at `now`, batch by batch, within a time budget below the task's limit."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    deadline = time.monotonic() + (max_seconds or settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.5)
    total = SweepResult()
    for batch in (sweep_clock_batch, sweep_run_batch):
        while time.monotonic() < deadline:
            result = batch(now=now, limit=batch_size)
            total.add(result)
            if result.claimed < batch_size:
                break
    return total


# --- the auditor ------------------------------------------------------------------------------


def clocks_audit(*, now: datetime | None = None) -> AuditStatus:
    """Nothing may stay overdue past one sweep interval plus grace without its alert: a row
    still due that long after its time means the sweep is not running. Logs and flags it."""
    now = now or timezone.now()
    late = now - timedelta(
        seconds=settings.SLA_SWEEP_INTERVAL_SECONDS + settings.SLA_AUDIT_GRACE_SECONDS
    )
    clocks = SlaClock.objects.filter(state=ClockState.RUNNING, next_check_at__lt=late)
    runs = EscalationRun.objects.filter(state=RunState.CLIMBING, next_check_at__lt=late)
    unnotified = SlaAlert.objects.filter(notified_at=None, created_at__lt=late)
    counts = {"clocks": clocks.count(), "escalations": runs.count(), "unnotified": unnotified.count()}
    overdue = sum(counts.values())
    detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    if overdue:
        oldest = clocks.order_by("next_check_at").values_list("next_check_at", flat=True).first()
        log.error("SLA audit: overdue without alert: %s (oldest clock due %s)", detail, oldest)
    status, _ = AuditStatus.objects.update_or_create(
        pk=1, defaults={"checked_at": now, "overdue": overdue, "detail": detail}
    )
    return status
