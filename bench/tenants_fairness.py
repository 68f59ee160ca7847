"""tenants_bench.py's part 3: is the desk fair between tenants, measured with real processes?

Beat and the Procfile's `worker` and `timers` lines (tests/faults/harness.py's
CeleryProcesses, with its short timings) run on the bench database. Chosen clocks are set to
come due a few seconds ahead: a calm run (only small tenants' clocks) and a storm run (the same
small tenants' clocks, and a huge tenant's `--storm` clocks in the same seconds). Each alert's
lateness is read as tests/faults/storm.py reads it: due to written (the sweep), notified (the
notifier) and delivered (its webhook, at a local sink, and email rows sent). The clocks are put
back as they were afterwards. Then the dashboards' fan-out (one refresh task per tenant on the
worker) with the huge tenants' refreshes made heavy: when did each tenant's refresh start?
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from dashboards.models import RollupState
from escalation.models import ClockState, SlaAlert, SlaClock, WebhookEndpoint
from escalation.services.webhooks import webhook_endpoint_create
from incidents.models import Incident
from tenancy.actors import Actor
from tenancy.models import Membership, Role, Tenant, User
from tests.faults.harness import CeleryProcesses, child_env, wait_for
from tests.faults.sink import WebhookSink
from tests.faults.storm import Lateness, lateness

EVENTS = ["sla.warning", "sla.breached"]
CLOCKS_PER_SMALL = 5
LEAD = 8.0  # seconds from setting the clocks to the first due: workers idle by then
SPREAD = 3.0  # the clocks' warnings come due within these seconds, breaches 3 s later
# Issue 16's storm goals, held for the small tenants while a huge tenant storms.
GOAL_WRITTEN, GOAL_DELIVERED_P95 = 30.0, 60.0
SAVED = ("state", "checkpoints", "next_check_at", "warn_at", "due_at", "breached_at",
         "running_since", "spent", "stopped_at")  # fmt: skip


@dataclass
class Service:
    """What harness.child_env reads of a PgCluster or RedisServer: .url()."""

    address: str

    def url(self) -> str:
        return self.address


class Database:
    """What tests.faults.storm.lateness reads through: .query(sql, params)."""

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _endpoint(tenant: Tenant, url: str) -> None:
    """An admin and one webhook endpoint at the sink taking SLA warnings and breaches (its
    address moves with the sink's port, run to run)."""
    if WebhookEndpoint.objects.for_tenant(tenant).update(url=url):
        return
    user = User.objects.filter(email=f"admin@{tenant.slug}.bench").first()
    if user is None:
        user = User.objects.create_user(f"admin@{tenant.slug}.bench", full_name="Admin")
        Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    membership = Membership.objects.get(tenant=tenant, user=user)
    webhook_endpoint_create(actor=Actor.member(membership), url=url, events=EVENTS)


def _clocks(tenant: Tenant, count: int) -> list[SlaClock]:
    """Clocks of the tenant's open incidents (their alerts go to people still working them)."""
    open_ids = Incident.objects.for_tenant(tenant).filter(
        state__in=["reported", "escalated", "diagnosing"]
    )
    return list(
        SlaClock.objects.for_tenant(tenant).filter(incident__in=open_ids).order_by("id")[:count]
    )


def _arm(clocks: list[SlaClock], start: datetime, rng: random.Random) -> None:
    """Each clock running, its warning due within SPREAD seconds of `start`, its breach 3 s
    later; alerts of earlier runs removed (an alert is unique per clock and threshold)."""
    SlaAlert.objects.filter(clock__in=clocks).delete()
    for clock in clocks:
        warn = start + timedelta(seconds=rng.uniform(0, SPREAD))
        due = warn + timedelta(seconds=3)
        clock.state, clock.breached_at, clock.stopped_at = ClockState.RUNNING, None, None
        clock.checkpoints = [[50, warn.isoformat()], [100, due.isoformat()]]
        clock.next_check_at, clock.warn_at, clock.due_at = warn, warn, due
        clock.running_since = due - timedelta(seconds=clock.target_seconds)
    SlaClock.objects.bulk_update(clocks, SAVED, batch_size=1000)


def _drill(label: str, small: list[SlaClock], huge: list[SlaClock], slugs: dict, timeout: float):
    """Arm the clocks, wait until every small tenant's alert is delivered (and the huge
    tenant's, or the timeout), return the lateness of each side."""
    rng = random.Random(label)
    start = timezone.now() + timedelta(seconds=LEAD)
    _arm(small + huge, start, rng)
    alerts = 2 * len(small + huge)
    print(f"\n{label}: {len(small)} small tenants' clocks and {len(huge)} of the huge "
          f"tenant's due from {LEAD:.0f} s ahead ({alerts} alerts)", flush=True)  # fmt: skip
    since = start - timedelta(seconds=1)
    db = Database()

    def done() -> bool:
        time.sleep(1)
        small_late = lateness(db, slugs["small"], since)
        huge_late = lateness(db, slugs["huge"], since) if huge else None
        # At least: the tenants' own clocks may come due meanwhile too (a fresh seed's do).
        ok = len(small_late.delivered) >= 2 * len(small) and not small_late.undelivered
        return ok and (huge_late is None or len(huge_late.delivered) >= 2 * len(huge))

    began = time.monotonic()
    try:
        wait_for(done, timeout, f"{label}: every alert delivered")
    except AssertionError:
        print(f"  not all delivered after {timeout:.0f} s: figures so far", flush=True)
    print(f"  settled {time.monotonic() - began:.0f} s after arming", flush=True)
    return lateness(db, slugs["small"], since), (
        lateness(db, slugs["huge"], since) if huge else None
    )


def _print(name: str, late: Lateness) -> None:
    print(f"  {name}: {len(late.written)} alerts, {late.undelivered} not delivered")
    for line in late.lines():
        print("    " + line)


def _restore(saved: dict[int, dict]) -> None:
    clocks = list(SlaClock.objects.filter(pk__in=saved))
    for clock in clocks:
        for field, value in saved[clock.pk].items():
            setattr(clock, field, value)
    SlaClock.objects.bulk_update(clocks, SAVED, batch_size=1000)


def alerts_fairness(huge: Tenant, smalls: list[Tenant], storm: int, timeout: float) -> dict:
    small_clocks = [c for t in smalls for c in _clocks(t, CLOCKS_PER_SMALL)]
    huge_clocks = _clocks(huge, storm)
    saved = {c.pk: {f: getattr(c, f) for f in SAVED} for c in small_clocks + huge_clocks}
    slugs = {"small": [t.slug for t in smalls], "huge": [huge.slug]}
    try:
        calm, _ = _drill("calm", small_clocks, [], slugs, timeout)
        storm_small, storm_huge = _drill("storm", small_clocks, huge_clocks, slugs, timeout)
    finally:
        _restore(saved)
    print(f"\nSLA alert lateness (s from due), {len(smalls)} small tenants:")
    _print("small tenants, calm", calm)
    _print("small tenants, beside the storm", storm_small)
    assert storm_huge is not None
    _print(f"{huge.slug} (the storm itself)", storm_huge)
    return {"calm": calm, "storm_small": storm_small, "storm_huge": storm_huge}


def rollups_fairness(tenants: list[Tenant], huge: list[Tenant]) -> dict:
    """The beat task's fan-out, one refresh per tenant on the worker, with each huge tenant's
    refresh made heavy (20,000 of its incidents written to): when did each tenant's start?"""
    from dashboards.tasks import refresh_rollups

    for tenant in huge:
        ids = Incident.objects.for_tenant(tenant).order_by("-id").values("id")[:20_000]
        Incident.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    sent = timezone.now()
    refresh_rollups.delay()
    kinds = {t.pk: ("huge" if t in huge else "other") for t in tenants}
    # refreshed_at is when a tenant's refresh began, seen once it committed (at its end).
    began: dict[int, float] = {}
    ended: dict[int, float] = {}

    def all_done() -> bool:
        time.sleep(0.5)
        now = time.monotonic()
        rows = RollupState.objects.filter(refreshed_at__gte=sent).values_list(
            "tenant_id", "refreshed_at"
        )
        for tenant_id, at in rows:
            if tenant_id not in ended and at is not None:
                began[tenant_id], ended[tenant_id] = (at - sent).total_seconds(), now - clock0
        return len(ended) >= len(tenants)

    clock0 = time.monotonic()
    try:
        wait_for(all_done, 900, "every tenant's refresh done")
    except AssertionError:
        print(f"  {len(tenants) - len(ended)} refreshes not done within 900 s")
    waits: dict[str, dict[str, list[float]]] = {}
    for name, seen in (("began", began), ("ended", ended)):
        for tenant_id, seconds in seen.items():
            waits.setdefault(name, {}).setdefault(kinds[tenant_id], []).append(seconds)
    print(f"\nDashboards fan-out ({len(tenants):,} refresh tasks on the worker, the huge")
    print("tenants' made heavy): seconds from the beat task to each tenant's refresh")
    for name, by_kind in waits.items():
        for kind, values in by_kind.items():
            ordered = sorted(values)
            p95 = ordered[round(0.95 * (len(ordered) - 1))]
            p50, top = statistics.median(ordered), ordered[-1]
            print(f"  {name:<6}{kind:<6}{len(values):>5} tenants  p50 {p50:6.1f}   p95 "
                  f"{p95:6.1f}   max {top:6.1f}")  # fmt: skip
    return waits


def run(huge: list[Tenant], smalls: list[Tenant], tenants: list[Tenant], args: argparse.Namespace):
    """Returns the figures and the goals missed."""
    workdir = Path(tempfile.mkdtemp(prefix="tenants-bench-"))
    broker = settings.REDIS_URL
    redis.Redis.from_url(broker).flushdb()  # triggers queued by the measured requests
    env = child_env(Service(_db_url()), Service(broker), workdir)  # type: ignore[arg-type]
    env.pop("DESK_RLS_DEFAULT", None)  # the workers as deployed: no bypass by default
    # The deployed task limits, not the fault tests' 5 s: on a busy machine a notifier batch
    # can outlast 5 s, and its kill and redo would be what the bench measured.
    for name in ("CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT"):
        env.pop(name, None)
    env["DASHBOARD_REFRESH_SECONDS"] = "3600"  # the bench sends the fan-out itself
    env["LOG_LEVEL"] = "WARNING"
    procs = CeleryProcesses(env, workdir)
    with WebhookSink() as sink:
        for tenant in [huge[0], *smalls]:
            _endpoint(tenant, sink.url("/hook"))
        procs.start_as_procfile()
        try:
            alerts = alerts_fairness(huge[0], smalls, args.storm, timeout=600)
            waits = rollups_fairness(tenants, huge)
        finally:
            procs.stop_all()
    missed = []
    for name, late in (("calm", alerts["calm"]), ("storm", alerts["storm_small"])):
        written = max(late.written, default=float("inf"))
        p95 = late.summary(late.delivered)[1] if late.delivered else float("inf")
        if written > GOAL_WRITTEN or p95 > GOAL_DELIVERED_P95 or late.undelivered:
            missed.append(f"small tenants' alerts, {name}: written max {written:.1f} s "
                          f"(<= {GOAL_WRITTEN:.0f}), delivered p95 {p95:.1f} s (<= "
                          f"{GOAL_DELIVERED_P95:.0f}), {late.undelivered} undelivered")  # fmt: skip
    return {"alerts": {k: vars(v) for k, v in alerts.items()}, "rollup_waits": waits}, missed


def _db_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
