"""SLA sweep benchmark on PostgreSQL.

1,000,000 running clocks across 100 tenants (500,000 incidents, a response and a resolution
clock each), 10,000 of them due at their 50% warning. Measures, in one run:

- drain: the sweep (escalation.services.sweep.sweep_due, the body of the beat task) writing the
  10,000 warning alerts and moving the clocks on, as alerts per second;
- bare: `UPDATE escalation_slaclock SET next_check_at = ... WHERE state = 'running' AND
  next_check_at <= now()` over the same 10,000 rows, as rows per second;
- idle: one sweep with nothing due, at 10,000 and at 1,000,000 clocks (median of many).

Goals (issue 5): drain >= 30% of bare; idle < 20 ms at 1M and <= 1.5x its time at 10k.
Notification fan-out is not in the drain: the notifier is its own task (see docs).

Usage (a throwaway database <name>_bench next to DATABASE_URL's is created and dropped):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_sla python bench/sla_bench.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dbsetup import bench_url as _bench_url  # noqa: E402
from dbsetup import recreate as _recreate  # noqa: E402
from dbsetup import setup_django as _setup_django  # noqa: E402
from dbsetup import sql as _sql  # noqa: E402


def iso(expr: str) -> str:
    """SQL for the ISO text of a UTC instant, as the clocks store their checkpoints."""
    return f"""to_char(({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""


INCIDENTS_SQL = """
INSERT INTO incidents_incident (tenant_id, number, title, description, state, version, impact,
  urgency, priority_id, priority_rank, contact_name, contact_email, hold_reason,
  resolution_notes, cause_category, root_cause, workaround, cancel_reason,
  satisfaction_comment, reopen_count, reassignment_count, affected_count, reported_at, updated_at,
  source_number)
SELECT t.id, n, 'Bench incident ' || n, '', 'escalated', 1, 'medium', 'medium', p.id, p.rank,
  '', '', '', '', '', '', '', '', '', 0, 0, 1, now() - interval '1 hour', now(), ''
FROM tenancy_tenant t
JOIN incidents_prioritylevel p ON p.tenant_id = t.id AND p.slug = 'medium'
CROSS JOIN generate_series(%s, %s) AS n
WHERE t.slug LIKE 'bench-%%'
"""
# Every clock gets its three instants still ahead (not due); spread over the next 30 days.
CLOCKS_SQL = f"""
INSERT INTO escalation_slaclock (tenant_id, incident_id, metric, policy_id, calendar_id,
  priority_slug, target_seconds, warn_percents, pause_on, state, started_at, spent,
  running_since, due_at, next_check_at, checkpoints)
SELECT i.tenant_id, i.id, m.metric, sp.id, sp.calendar_id, 'medium', 86400,
  '[50, 80]'::jsonb, '["awaiting_caller"]'::jsonb, 'running', i.reported_at, interval '0',
  i.reported_at, x.due, x.due - interval '12 hours',
  jsonb_build_array(jsonb_build_array(50, {iso("x.due - interval '12 hours'")}),
                    jsonb_build_array(80, {iso("x.due - interval '5 hours'")}),
                    jsonb_build_array(100, {iso("x.due")}))
FROM incidents_incident i
JOIN escalation_slapolicy sp ON sp.tenant_id = i.tenant_id AND sp.priority_id = i.priority_id
CROSS JOIN (VALUES ('response'), ('resolution')) AS m(metric)
CROSS JOIN LATERAL (
  SELECT now() + interval '1 day' + (i.number %% 720) * interval '1 hour' AS due) x
WHERE i.number BETWEEN %s AND %s
"""
# The due 10,000: response clocks of every 50th incident, their 50% warning a minute ago.
MAKE_DUE_SQL = f"""
UPDATE escalation_slaclock c SET next_check_at = now() - interval '1 minute',
  state = 'running', breached_at = NULL,
  checkpoints = jsonb_build_array(
    jsonb_build_array(50, {iso("now() - interval '1 minute'")}),
    jsonb_build_array(80, {iso("c.due_at - interval '5 hours'")}),
    jsonb_build_array(100, {iso("c.due_at")}))
FROM incidents_incident i
WHERE c.incident_id = i.id AND c.metric = 'response' AND i.number %% 50 = 0
"""
BARE_SQL = """
UPDATE escalation_slaclock SET next_check_at = next_check_at + interval '1 hour'
WHERE state = 'running' AND next_check_at <= now()
"""


def _count(statement: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement)
        return cur.fetchone()[0]


def load(tenants: int, per_tenant_from: int, per_tenant_to: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        _sql(INCIDENTS_SQL, [per_tenant_from, per_tenant_to])
        _sql(CLOCKS_SQL, [per_tenant_from, per_tenant_to])
    _sql("ANALYZE incidents_incident")
    _sql("ANALYZE escalation_slaclock")


def make_tenants(count: int) -> None:
    """Tenants with their defaults and one manager each (whom unassigned warnings reach)."""
    from tenancy.models import Role, User
    from tenancy.services import membership_add, tenant_create

    for n in range(count):
        tenant = tenant_create(slug=f"bench-{n:03d}", name=f"Bench {n:03d}")
        manager = User.objects.create_user(f"manager{n:03d}@bench.test")
        membership_add(tenant=tenant, user=manager, role=Role.MANAGER)


def notify_rate(sample: int = 1000) -> tuple[int, float]:
    """The notifier over `sample` of the drained alerts: recipients, mail rendering, outbox rows
    and timeline events, rolled back so nothing is sent (delivery is not measured)."""
    from django.db import transaction

    from escalation.services.alerts import alerts_notify_pending

    start = time.perf_counter()
    with transaction.atomic():
        handled = sum(alerts_notify_pending(limit=100) for _ in range(sample // 100))
        transaction.set_rollback(True)
    return handled, time.perf_counter() - start


def idle_sweep_ms(runs: int = 500) -> tuple[float, float, float]:
    from escalation.services.sweep import sweep_due

    for _ in range(20):  # warm the connection, the plan cache and the index pages first
        sweep_due()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = sweep_due()
        samples.append((time.perf_counter() - start) * 1000)
        assert result.claimed == 0, "idle sweep found work"
    samples.sort()
    return samples[0], statistics.median(samples), samples[int(len(samples) * 0.95)]


def _reset_due() -> int:
    _sql("DELETE FROM escalation_slaalert")
    rows = _sql(MAKE_DUE_SQL)
    _sql("VACUUM ANALYZE escalation_slaclock")
    _sql("VACUUM ANALYZE escalation_slaalert")
    return rows


def bare_update() -> tuple[int, float]:
    from django.db import transaction

    start = time.perf_counter()
    with transaction.atomic():
        rows = _sql(BARE_SQL)
    return rows, time.perf_counter() - start


def drain() -> tuple[int, float]:
    from escalation.services.sweep import sweep_due

    start = time.perf_counter()
    result = sweep_due(max_seconds=600)
    return result.alerts, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--incidents-per-tenant", type=int, default=5000)  # x2 clocks = 1M
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    url, admin_url, name = _bench_url(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd")
    )
    _recreate(admin_url, name)
    try:
        run(url, args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _recreate(admin_url, name, drop_only=True)


def run(url: str, args) -> None:
    _setup_django(url)  # Django's autocommit lets VACUUM run between the measured parts
    t0 = time.perf_counter()
    make_tenants(args.tenants)
    small = 50  # 100 tenants x 50 incidents x 2 = 10,000 clocks
    load(args.tenants, 1, small)
    idle_10k = idle_sweep_ms()
    load(args.tenants, small + 1, args.incidents_per_tenant)
    _sql("VACUUM ANALYZE escalation_slaclock")
    total = _count("SELECT count(*) FROM escalation_slaclock WHERE state = 'running'")
    idle_1m = idle_sweep_ms()
    took = time.perf_counter() - t0
    print(f"loaded {total:,} running clocks in {args.tenants} tenants in {took:.0f} s")
    rounds = []
    for _ in range(args.rounds):
        due = _reset_due()
        rows, bare_s = bare_update()
        assert rows == due, (rows, due)
        due = _reset_due()
        alerts, drain_s = drain()
        assert alerts == due, (alerts, due)
        rounds.append((due, bare_s, drain_s))
        ms = f"bare UPDATE {bare_s * 1000:.0f} ms, sweep drain {drain_s * 1000:.0f} ms"
        print(f"  round: {due:,} due; {ms}")
    report(rounds, idle_10k, idle_1m)
    handled, notify_s = notify_rate()
    print(f"notifier      : {handled / notify_s:,.0f} alerts/s into the outbox ({handled:,})")


def report(rounds, idle_10k, idle_1m) -> None:
    due = rounds[0][0]
    bare_s = statistics.median(r[1] for r in rounds)
    drain_s = statistics.median(r[2] for r in rounds)
    bare_rate, drain_rate = due / bare_s, due / drain_s
    print(f"bare UPDATE   : {bare_rate:,.0f} rows/s ({bare_s * 1000:.0f} ms for {due:,}, median)")
    print(
        f"sweep drain   : {drain_rate:,.0f} alerts/s ({drain_s * 1000:.0f} ms, median)"
        f" = {drain_rate / bare_rate:.0%} of bare (goal >= 30%)"
    )
    for name, (low, median, p95) in (("10k", idle_10k), ("1M ", idle_1m)):
        print(f"idle sweep {name}: min {low:.2f} ms, median {median:.2f} ms, p95 {p95:.2f} ms")
    print(
        f"idle 1M / 10k : {idle_1m[1] / idle_10k[1]:.2f}x median, {idle_1m[0] / idle_10k[0]:.2f}x"
        " min (goals: 1M under 20 ms, at most 1.5x 10k)"
    )


if __name__ == "__main__":
    main()
