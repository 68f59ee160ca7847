"""The sweep: fire the checkpoints of running clocks and the levels of climbing climbs that have
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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import timezone

from escalation.clock_rules import BREACH, split_due
from escalation.models import (
    AuditStatus,
    ClockState,
    EscalationLevel,
    EscalationRun,
    RunState,
    SlaAlert,
    SlaClock,
    SweepStatus,
)
from escalation.services.climb import climb_advance
from escalation.services.clocks import alert_for
from escalation.services.defaults import CalendarSpecs

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    claimed: int = 0
    alerts: int = 0
    # The time budget ran out with a full batch just done: more may be due (the task re-arms).
    unfinished: bool = False

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
            alert = alert_for(
                (clock_id, tenant_id, incident_id), int(percent), datetime.fromisoformat(at)
            )
            # Stamped with the sweep's instant, as the SQL batch does, not with the moment this
            # batch ran (later, by the batches before it in the same sweep).
            alert.created_at = now
            alerts.append(alert)
            if int(percent) >= BREACH:
                breached_at = at
        if breached_at:
            remaining = []
        next_at = remaining[0][1] if remaining else None
        updates.append((clock_id, json.dumps(remaining), next_at, breached_at))
    return alerts, updates


_GENERIC_UPDATE = """
UPDATE escalation_slaclock SET
  checkpoints = %s,
  next_check_at = %s,
  state = CASE WHEN %s IS NULL THEN state ELSE 'breached' END,
  breached_at = COALESCE(%s, breached_at),
  spent = CASE WHEN %s IS NULL THEN spent ELSE {spent_at_target} END,
  running_since = CASE WHEN %s IS NULL THEN running_since END
WHERE id = %s
"""


def _spent_at_target() -> str:
    # SQLite keeps a DurationField as integer microseconds, PostgreSQL as an interval; the
    # portable batch climbs on both (on PostgreSQL only to be compared with the SQL batch).
    if connection.vendor == "postgresql":
        return "make_interval(secs => target_seconds)"
    return "target_seconds * 1000000"


def _write_clocks(updates: list[tuple]) -> None:
    params = []
    for clock_id, cp, nxt, br in updates:
        nxt, br = _db_time(nxt), _db_time(br)
        params.append((cp, nxt, br, br, br, br, clock_id))
    with connection.cursor() as cursor:
        cursor.executemany(_GENERIC_UPDATE.format(spent_at_target=_spent_at_target()), params)


def _db_time(value: str | None) -> str | datetime | None:
    # A raw statement bypasses the field: SQLite wants naive UTC text, PostgreSQL an aware value.
    if value is None:
        return None
    return connection.ops.adapt_datetimefield_value(datetime.fromisoformat(value))


def portable_clock_batch(*, now: datetime, limit: int) -> SweepResult:
    """The same rule as _PG_CLOCK_BATCH, in Python, for databases without data-modifying CTEs
    (SQLite in production; on PostgreSQL too, where a test holds it to the SQL batch)."""
    with transaction.atomic():
        rows = _claim_clocks(now, limit)
        if not rows:
            return SweepResult()
        alerts, updates = _plan(rows, now)
        SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True, batch_size=500)
        _write_clocks(updates)
    return SweepResult(len(rows), len(alerts))


# One statement, so one round trip and its own transaction: claim the due clocks (skipping rows
# another sweeper holds), split each clock's checkpoints at `now`, insert an alert per fired
# checkpoint (the unique key drops a repeat), and move each clock to its next checkpoint or
# mark it breached. The rule is split_due() and _plan() above, said in SQL.
_PG_CLOCK_BATCH = """
WITH due AS (
  SELECT id, tenant_id, incident_id, checkpoints FROM escalation_slaclock
  WHERE state = 'running' AND next_check_at <= %(now)s
  ORDER BY next_check_at LIMIT %(limit)s
  FOR UPDATE SKIP LOCKED
), cp AS (
  SELECT d.id, d.tenant_id, d.incident_id, e.ord, e.value,
         (e.value->>0)::int AS pct, (e.value->>1)::timestamptz AS at
  FROM due d LEFT JOIN LATERAL jsonb_array_elements(d.checkpoints) WITH ORDINALITY AS e(value, ord)
    ON true
), fired AS (
  SELECT * FROM cp WHERE at <= %(now)s
), inserted AS (
  INSERT INTO escalation_slaalert (tenant_id, incident_id, kind, clock_id, threshold, due_at,
    created_at, notify, recipients, acknowledged_via, on_call_note)
  SELECT tenant_id, incident_id, CASE WHEN pct >= 100 THEN 'breach' ELSE 'warning' END, id, pct,
    at, %(now)s, '', '[]'::jsonb, '', ''
  FROM fired ORDER BY id, ord
  ON CONFLICT DO NOTHING
  RETURNING 1
), plan AS (
  SELECT id,
    COALESCE(jsonb_agg(value ORDER BY ord) FILTER (WHERE at > %(now)s), '[]'::jsonb) AS remaining,
    min(at) FILTER (WHERE at > %(now)s) AS next_at,
    min(at) FILTER (WHERE pct >= 100 AND at <= %(now)s) AS breached_at
  FROM cp GROUP BY id
), moved AS (
  UPDATE escalation_slaclock c SET
    checkpoints = CASE WHEN p.breached_at IS NULL THEN p.remaining ELSE '[]'::jsonb END,
    next_check_at = CASE WHEN p.breached_at IS NULL THEN p.next_at END,
    state = CASE WHEN p.breached_at IS NULL THEN c.state ELSE 'breached' END,
    breached_at = COALESCE(p.breached_at, c.breached_at),
    spent = CASE WHEN p.breached_at IS NULL THEN c.spent
                 ELSE make_interval(secs => c.target_seconds) END,
    running_since = CASE WHEN p.breached_at IS NULL THEN c.running_since END
  FROM plan p WHERE c.id = p.id
  RETURNING 1
)
SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM fired), (SELECT count(*) FROM inserted)
"""


def postgres_clock_batch(*, now: datetime, limit: int) -> SweepResult:
    with connection.cursor() as cursor:
        cursor.execute(_PG_CLOCK_BATCH, {"now": now, "limit": limit})
        claimed, fired, _inserted = cursor.fetchone()
    return SweepResult(claimed, fired)


def sweep_clock_batch(*, now: datetime, limit: int) -> SweepResult:
    if connection.vendor != "postgresql":
        return portable_clock_batch(now=now, limit=limit)
    return postgres_clock_batch(now=now, limit=limit)


# --- escalation climbs --------------------------------------------------------------------------


def sweep_climb_batch(*, now: datetime, limit: int) -> SweepResult:
    with transaction.atomic():
        climbs = list(
            EscalationRun.objects.filter(state=RunState.CLIMBING, next_check_at__lte=now)
            .select_related("policy__calendar")
            .prefetch_related(
                Prefetch(
                    "policy__levels",
                    # A level that pages a schedule reads who is on call as it fires.
                    EscalationLevel.objects.order_by("position").select_related(
                        "schedule__fallback"
                    ),
                )
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_check_at")[:limit]
        )
        alerts: list[SlaAlert] = []
        specs = CalendarSpecs()  # one days-off read per calendar for the batch
        for climb in climbs:
            levels = list(climb.policy.levels.all()) if climb.policy else []
            step = climb_advance(climb, climb.policy, levels, now, specs)
            alerts += step.alerts
            climb.level, climb.repeat, climb.state = step.level, step.repeat, step.state
            climb.next_check_at = step.next_check_at
            climb.save(update_fields=["level", "repeat", "state", "next_check_at"])
        SlaAlert.objects.bulk_create(alerts, ignore_conflicts=True)
    return SweepResult(len(climbs), len(alerts))


# --- the task body ----------------------------------------------------------------------------


def _anything_due(now: datetime) -> tuple[bool, bool]:
    """One cheap look (two index probes, no locks, no transaction) before any claiming: the
    idle sweep, which is nearly every sweep, costs a single round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM escalation_slaclock WHERE state = 'running' "
            "AND next_check_at <= %s), EXISTS (SELECT 1 FROM escalation_escalationrun "
            "WHERE state = 'climbing' AND next_check_at <= %s)",
            [connection.ops.adapt_datetimefield_value(now)] * 2,
        )
        clocks, climbs = cursor.fetchone()
    return bool(clocks), bool(climbs)


def sweep_due(
    *, now: datetime | None = None, batch_size: int | None = None, max_seconds: float | None = None
) -> SweepResult:
    """Drain what is due at `now`, batch by batch, within a time budget below the task's limit."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    deadline = time.monotonic() + (max_seconds or settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.5)
    total = SweepResult()
    clocks_due, climbs_due = _anything_due(now)
    batches = [
        b for b, due in ((sweep_clock_batch, clocks_due), (sweep_climb_batch, climbs_due)) if due
    ]
    for batch in batches:
        while True:
            if time.monotonic() >= deadline:
                total.unfinished = True
                break
            result = batch(now=now, limit=batch_size)
            total.add(result)
            if result.claimed < batch_size:
                break
    return total


def sweep_completed(result: SweepResult, *, seconds: float, now: datetime | None = None) -> None:
    """The dead-man's heartbeat (escalation/selectors/operations.py: sweep_stalled): one row,
    rewritten by every sweep that finishes, the idle ones included."""
    values = {"completed_at": now or timezone.now(), "alerts": result.alerts, "seconds": seconds}
    if not SweepStatus.objects.filter(pk=1).update(**values):
        SweepStatus.objects.bulk_create([SweepStatus(pk=1, **values)], ignore_conflicts=True)


# --- the auditor ------------------------------------------------------------------------------


def clocks_audit(*, now: datetime | None = None) -> AuditStatus:
    """Nothing may stay overdue past one sweep interval plus grace without its alert: a row
    still due that long after its time means the sweep is not running. Logs and flags it."""
    now = now or timezone.now()
    late = now - timedelta(
        seconds=settings.SLA_SWEEP_INTERVAL_SECONDS + settings.SLA_AUDIT_GRACE_SECONDS
    )
    clocks = SlaClock.objects.filter(state=ClockState.RUNNING, next_check_at__lt=late)
    climbs = EscalationRun.objects.filter(state=RunState.CLIMBING, next_check_at__lt=late)
    unnotified = SlaAlert.objects.filter(notified_at=None, created_at__lt=late)
    counts = {
        "clocks": clocks.count(),
        "escalations": climbs.count(),
        "unnotified": unnotified.count(),
    }
    overdue = sum(counts.values())
    detail = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    if overdue:
        oldest = clocks.order_by("next_check_at").values_list("next_check_at", flat=True).first()
        log.error("SLA audit: overdue without alert: %s (oldest clock due %s)", detail, oldest)
    status, _ = AuditStatus.objects.update_or_create(
        pk=1, defaults={"checked_at": now, "overdue": overdue, "detail": detail}
    )
    return status
