"""The sweep's clock rule is written twice: one SQL statement per batch on PostgreSQL and the
same rule in Python for SQLite (which `make run` uses). Both run here, on PostgreSQL, over the
same clocks at the same instants, and must leave the same alert rows and the same clock rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction

from escalation.models import (
    AlertKind,
    BusinessCalendar,
    ClockState,
    Metric,
    SlaAlert,
    SlaClock,
)
from escalation.services.defaults import sla_policy_for
from escalation.services.sweep import (
    SweepResult,
    portable_clock_batch,
    postgres_clock_batch,
)
from incidents import services
from incidents.models import Incident, PriorityLevel
from tests.escalation.sla_helpers import report_high, short_targets

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

FRIDAY_15 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 16:00 in Paris, an hour before closing
# The instants the sweep runs at, each drained in batches of BATCH.
SWEEPS = [
    FRIDAY_15 + timedelta(minutes=5),
    FRIDAY_15 + timedelta(minutes=9, seconds=30),
    FRIDAY_15 + timedelta(minutes=61),
    datetime(2026, 11, 30, 8, 45, tzinfo=UTC),  # Monday 09:45 in Paris
    datetime(2026, 12, 7, 12, 0, tzinfo=UTC),  # everything due is long past
]
BATCH = 4
# A sweeper takes `now` once and runs its batches afterwards: the wall clock is later.
WALL_CLOCK_LAG = timedelta(seconds=3)

Batch = Callable[..., SweepResult]


@pytest.fixture
def paris_business_hours(people) -> BusinessCalendar:
    hours = {str(day): [["09:00", "17:00"]] for day in range(5)}
    return BusinessCalendar.objects.create(
        tenant=people.acme, name="Paris office", time_zone="Europe/Paris", weekly_hours=hours
    )


def _at(seconds: float) -> time_machine.travel:
    return time_machine.travel(FRIDAY_15 + timedelta(seconds=seconds), tick=False)


def _report(people, seconds: float, impact: str = "high", urgency: str = "high") -> Incident:
    with _at(seconds):
        return services.incident_report(
            actor=people.actor(people.rita), title=f"Case at {seconds}s", impact=impact,
            urgency=urgency, category=people.network,
        )  # fmt: skip


def _accept(people, incident: Incident, seconds: float) -> Incident:
    with _at(seconds):
        return services.incident_accept(incident=incident, actor=people.actor(people.alice))


def _resolve(people, incident: Incident, seconds: float) -> Incident:
    with _at(seconds):
        return services.incident_resolve(
            incident=incident, actor=people.actor(people.alice),
            resolution_code="solved-permanently", resolution_notes="Fixed",
        )  # fmt: skip


def _hold(people, incident: Incident, seconds: float, kind: str) -> Incident:
    with _at(seconds):
        return services.incident_hold(
            incident=incident, actor=people.actor(people.alice), hold_reason=kind
        )


def _policies(people, paris: BusinessCalendar) -> None:
    """High: around the clock, minutes long, four warnings. Low: Paris business hours, so its
    checkpoints lie across the weekend. Medium keeps the default business hours (UTC)."""
    short_targets(people.acme, response=600, resolution=3600, warn=(25, 50, 75, 90))
    short_targets(people.globex, response=300, resolution=1200, warn=(50,))
    low = sla_policy_for(PriorityLevel.objects.get(tenant=people.acme, slug="low"))
    low.calendar, low.response_seconds, low.resolution_seconds = paris, 2 * 3600, 8 * 3600
    low.warn_percents = [25, 50, 75]
    low.save()


def _lifecycles(people) -> None:
    """Incidents a second apart (no two clocks share a next check, so batches are the same
    rows in both paths), moved through the services to the states a sweep meets."""
    _report(people, 0)  # left running: every warning, then the breach
    _accept(people, _report(people, 1), 100)  # response met, resolution running
    held = _accept(people, _report(people, 2), 3)
    _hold(people, held, 1000, "awaiting_caller")  # paused after its 25% (settled by the hook)
    vendor = _accept(people, _report(people, 3), 4)
    _hold(people, vendor, 50, "awaiting_vendor")  # a hold the policy ignores: still running
    _resolve(people, _report(people, 4), 20)  # response met, resolution paused (resolved)
    with _at(30):
        services.incident_cancel(
            incident=_report(people, 5), actor=people.actor(people.alice), reason="Twice"
        )
    reopened = _resolve(people, _accept(people, _report(people, 6), 7), 60)
    with _at(400):
        services.incident_reopen(incident=reopened, actor=people.actor(people.rita), reason="No")
    _report(people, 7, impact="low", urgency="low")  # Paris business hours
    _report(people, 8, impact="medium", urgency="medium")  # default business hours
    _accept(people, _report(people, 9), 9 + 700)  # accepted late: breached by the hook
    raised = _report(people, 10, impact="low", urgency="low")
    with _at(1200):  # 20 minutes in: the new response target is behind, 25% of resolution too
        services.incident_update(
            incident=raised,
            actor=people.actor(people.alice),
            impact="high",
            urgency="high",
            reason="Whole floor",
        )
    with _at(11):
        services.incident_report(
            actor=people.actor(people.charlie, people.globex), title="Other tenant",
            impact="high", urgency="high",
        )  # fmt: skip


def _replayed_and_edge_clocks(people) -> SlaClock:
    """A warning already written (a replay inserts nothing), a checkpoint exactly at a sweep's
    instant and one a microsecond later, and checkpoints written with a non-UTC offset (the SQL
    casts the text, Python parses it). Returns the clock of the exact instant."""
    with _at(12):
        replayed = report_high(people)
    clock = SlaClock.objects.get(incident=replayed, metric=Metric.RESPONSE)
    percent, at = clock.checkpoints[0]
    SlaAlert.objects.create(
        tenant=people.acme, incident=replayed, clock=clock, kind=AlertKind.WARNING,
        threshold=percent, due_at=datetime.fromisoformat(at),
    )  # fmt: skip
    with _at(13):
        edge = report_high(people)
    now, tick = SWEEPS[0], timedelta(microseconds=1)
    exact = [[25, now.isoformat()], [50, (now + tick).isoformat()], [100, SWEEPS[2].isoformat()]]
    SlaClock.objects.filter(incident=edge, metric=Metric.RESPONSE).update(
        checkpoints=exact, next_check_at=now
    )
    other = SlaClock.objects.get(incident=edge, metric=Metric.RESOLUTION)
    paris = ZoneInfo("Europe/Paris")
    local = [[p, datetime.fromisoformat(t).astimezone(paris).isoformat()]
             for p, t in other.checkpoints]  # fmt: skip
    SlaClock.objects.filter(pk=other.pk).update(checkpoints=local)
    return SlaClock.objects.get(incident=edge, metric=Metric.RESPONSE)


ALERT_FIELDS = [f.attname for f in SlaAlert._meta.concrete_fields if f.attname != "id"]


def _alert_rows() -> dict[tuple[int, int], dict]:
    """The clock alerts by their natural key (the tenant is in the row)."""
    rows = SlaAlert.objects.filter(clock__isnull=False).values(*ALERT_FIELDS)
    return {(row["clock_id"], row["threshold"]): row for row in rows}


def _clock_rows() -> dict[int, dict]:
    return {row["id"]: dict(row) for row in SlaClock.objects.values()}


def _drain(batch: Batch, now: datetime) -> list[tuple[int, int]]:
    """One sweep at `now`, as sweep_due drains it: batches until one comes back short."""
    results = []
    with time_machine.travel(now + WALL_CLOCK_LAG, tick=False):
        while True:
            result = batch(now=now, limit=BATCH)
            results.append((result.claimed, result.alerts))
            if result.claimed < BATCH:
                return results


def _run(batch: Batch) -> list[tuple[list, dict, dict]]:
    """Every sweep instant through one path; what it left after each; then undone, so the
    other path starts from the same rows."""
    point = transaction.savepoint()
    try:
        return [(_drain(batch, now), _alert_rows(), _clock_rows()) for now in SWEEPS]
    finally:
        transaction.savepoint_rollback(point)


def _differences(sql: list, python: list) -> list[str]:
    out = []
    for now, sql_step, py_step in zip(SWEEPS, sql, python, strict=True):
        sql_batches, sql_alerts, sql_clocks = sql_step
        py_batches, py_alerts, py_clocks = py_step
        if sql_batches != py_batches:
            out.append(f"{now}: batches (claimed, alerts) SQL {sql_batches} Python {py_batches}")
        for key in sorted(set(sql_alerts) | set(py_alerts)):
            if sql_alerts.get(key) != py_alerts.get(key):
                out.append(
                    f"{now}: alert {key} SQL {sql_alerts.get(key)} Python {py_alerts.get(key)}"
                )
        for clock_id, row in sql_clocks.items():
            other = py_clocks[clock_id]
            changed = {
                key: (value, other[key]) for key, value in row.items() if value != other[key]
            }
            if changed:
                out.append(f"{now}: clock {clock_id} (SQL, Python): {changed}")
    return out


def test_the_sql_and_the_python_sweep_leave_the_same_alerts_and_clocks(
    people, paris_business_hours
):
    assert connection.vendor == "postgresql"
    _policies(people, paris_business_hours)
    _lifecycles(people)
    edge = _replayed_and_edge_clocks(people)
    due = SlaClock.objects.filter(state=ClockState.RUNNING).values_list("next_check_at", flat=True)
    assert len(set(due)) == len(due), "two clocks share a next check: batches would vary"
    before = _alert_rows()

    sql, python = _run(postgres_clock_batch), _run(portable_clock_batch)

    assert _differences(sql, python) == []
    # What the comparison covered, so that it cannot pass on an empty sweep.
    assert [[claimed for claimed, _ in batches] for batches, _, _ in sql] == [
        [4, 0], [4, 0], [4, 4, 4, 1], [2], [4, 0],
    ]  # fmt: skip
    assert sum(fired for batches, _, _ in sql for _, fired in batches) == 70
    alerts, clocks = sql[-1][1], sql[-1][2]
    swept = [row for key, row in alerts.items() if key not in before]
    assert len(clocks) == 28 and len(swept) == 69  # the replayed warning was not written again
    assert {(a["kind"], a["threshold"]) for a in swept} == {
        ("warning", 25), ("warning", 50), ("warning", 75), ("warning", 80), ("warning", 90),
        ("breach", 100),
    }  # fmt: skip
    # A checkpoint at the sweep's instant fires; one a microsecond later waits for the next.
    assert [t for clock_id, t in sql[0][1] if clock_id == edge.pk] == [25]
    assert Counter(c["state"] for c in clocks.values()) == {
        "breached": 19, "met": 5, "paused": 2, "stopped": 2,
    }  # fmt: skip
