"""Two sweepers in two processes at once on PostgreSQL: every due clock is claimed by exactly
one of them, and every alert is written exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from escalation.models import ClockState, Metric, SlaAlert, SlaClock
from escalation.services.defaults import around_the_clock_calendar
from incidents.models import Incident, PriorityLevel
from tests.escalation.worker import BASE_DIR, database_env

pytestmark = pytest.mark.postgres

SWEEPER = """
import json, os, sys, time
from pathlib import Path
import django
django.setup()
from django.db.models import F
from django.utils import timezone
from escalation.services.sweep import sweep_clock_batch

me, other = Path(sys.argv[1]), Path(sys.argv[2])
me.touch()
while not other.exists():  # start together: both are loaded before either sweeps
    time.sleep(0.01)
now, claimed, alerts = timezone.now(), 0, 0
while True:
    result = sweep_clock_batch(now=now, limit=25)
    claimed, alerts = claimed + result.claimed, alerts + result.alerts
    if not result.claimed:
        break
print(json.dumps({"claimed": claimed, "alerts": alerts}))
"""


def _due_clocks(tenant, count: int) -> None:
    level = PriorityLevel.objects.get(tenant=tenant, slug="high")
    calendar = around_the_clock_calendar(tenant)
    now = timezone.now()
    incidents = Incident.objects.bulk_create(
        Incident(
            tenant=tenant,
            number=n,
            title=f"Load {n}",
            priority=level,
            priority_rank=1,
            reported_at=now - timedelta(hours=1),
        )
        for n in range(1, count + 1)
    )
    past = [
        [50, (now - timedelta(minutes=30)).isoformat()],
        [80, (now - timedelta(minutes=10)).isoformat()],
        [100, (now + timedelta(hours=1)).isoformat()],
    ]
    SlaClock.objects.bulk_create(
        SlaClock(
            tenant=tenant,
            incident=i,
            metric=Metric.RESPONSE,
            calendar=calendar,
            priority_slug="high",
            target_seconds=3600,
            started_at=i.reported_at,
            running_since=i.reported_at,
            due_at=now + timedelta(hours=1),
            next_check_at=now - timedelta(minutes=30),
            checkpoints=past,
        )
        for i in incidents
    )


def test_two_sweepers_in_two_processes_claim_each_clock_once(people, transactional_db, tmp_path):
    _due_clocks(people.acme, 1500)
    env = {
        **os.environ,
        "PYTHONPATH": str(BASE_DIR),
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        **database_env(),
    }
    a, b = tmp_path / "a", tmp_path / "b"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SWEEPER, str(me), str(other)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for me, other in ((a, b), (b, a))
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(r["claimed"] for r in results) == 1500  # no clock processed twice
    assert all(r["claimed"] > 0 for r in results), results  # both really swept
    assert SlaAlert.objects.count() == 3000  # 50% and 80% of each clock, once
    assert (
        SlaClock.objects.filter(next_check_at__lte=timezone.now(), state=ClockState.RUNNING).count()
        == 0
    )
    # What is left of each clock is its breach, next.
    assert SlaClock.objects.exclude(next_check_at=F("due_at")).count() == 0
