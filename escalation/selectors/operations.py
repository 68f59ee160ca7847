"""What an operator watches (servicedesk/metrics.py, /readyz; docs/operations.md): how late the
sweep, the notifier and the deliveries are, the outbox's backlog, and the dead-man check of the
sweep. Platform-wide reads, no tenant: they serve the operator, not a tenant's pages."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from escalation.models import (
    ClockState,
    EscalationRun,
    Notification,
    NotificationStatus,
    RunState,
    SlaAlert,
    SlaClock,
    SweepStatus,
)

log = logging.getLogger(__name__)
# The sweep is stalled when it has not finished for this many intervals while clocks are due.
STALLED_AFTER_INTERVALS = 3
_LOG_EVERY_SECONDS = 60.0
_last_logged: float | None = None


def _seconds(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


def oldest_unswept(now: datetime) -> datetime | None:
    """The earliest instant a running clock or a climbing climb came due and is not swept yet."""
    clock = (
        SlaClock.objects.filter(state=ClockState.RUNNING, next_check_at__lte=now)
        .order_by("next_check_at")  # the partial index slaclock_due
        .values_list("next_check_at", flat=True)
        .first()
    )
    climb = (
        EscalationRun.objects.filter(state=RunState.CLIMBING, next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("next_check_at", flat=True)
        .first()
    )
    found = [at for at in (clock, climb) if at is not None]
    return min(found) if found else None


def sweep_lag(now: datetime | None = None) -> float:
    """Seconds since the oldest due checkpoint or level without its alert (0: all written)."""
    now = now or timezone.now()
    return _seconds(now, oldest_unswept(now))


def notify_lag(now: datetime | None = None) -> float:
    """Seconds since the oldest alert not yet notified came due (0: all notified)."""
    now = now or timezone.now()
    oldest = SlaAlert.objects.filter(notified_at=None).aggregate(at=Min("due_at"))["at"]
    return _seconds(now, oldest)


def delivery_lag(now: datetime | None = None) -> dict[str, float]:
    """Per channel, seconds since the oldest row waiting for its (first or next) attempt was
    due; channels with nothing waiting are left out."""
    now = now or timezone.now()
    rows = (
        Notification.objects.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now)
        .values("channel")
        .annotate(at=Min("next_attempt_at"))
    )
    return {row["channel"]: _seconds(now, row["at"]) for row in rows}


def outbox_backlog() -> dict[tuple[str, str], int]:
    """(channel, status) -> rows not yet sent or given up: pending and sending."""
    rows = (
        Notification.objects.filter(
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]
        )
        .values("channel", "status")
        .annotate(n=Count("id"))
    )
    return {(row["channel"], row["status"]): row["n"] for row in rows}


def sweep_completed_at() -> datetime | None:
    return SweepStatus.objects.filter(pk=1).values_list("completed_at", flat=True).first()


def sweep_stalled(now: datetime | None = None) -> str:
    """The dead-man check: why the sweep counts as stalled, or "" when it does not. Stalled: no
    sweep has finished for three intervals while a clock or climb is due. (An idle sweep
    finishes too, so a quiet desk is never stalled; before any sweep has finished, what is due
    must have waited three intervals.)"""
    now = now or timezone.now()
    window = timedelta(seconds=STALLED_AFTER_INTERVALS * settings.SLA_SWEEP_INTERVAL_SECONDS)
    completed = sweep_completed_at()
    if completed is not None and completed >= now - window:
        return ""
    due = oldest_unswept(now)
    if due is None or (completed is None and due >= now - window):
        return ""
    last = f"last finished {completed:%Y-%m-%d %H:%M:%S} UTC" if completed else "never finished"
    return f"the SLA sweep has {last}; clocks due since {due:%Y-%m-%d %H:%M:%S} UTC wait"


def sweep_deadman(now: datetime | None = None) -> str:
    """sweep_stalled, logged at ERROR (once a minute per process) when it fires: the timers
    worker, /readyz and /metrics all ask, so whichever is alive raises it."""
    global _last_logged
    stalled = sweep_stalled(now)
    if stalled and (_last_logged is None or time.monotonic() - _last_logged > _LOG_EVERY_SECONDS):
        _last_logged = time.monotonic()
        log.error("SLA dead-man check: %s", stalled)
    return stalled
