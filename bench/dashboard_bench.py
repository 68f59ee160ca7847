"""Manager dashboard benchmark on PostgreSQL (issue 7).

Two tenants in one run: `bench-big` with 500,000 incidents over the last year and `bench-small`
with 10,000. Each incident comes with its two SLA clocks and its transition events (reported,
escalate, accept, resolve, reopen, close, cancel: about 5 a incident, 2.5 million rows for the big
tenant), generated server-side with INSERT ... SELECT over generate_series. The dashboard tables
are then rebuilt (`rollups_rebuild`, the body of `manage.py rebuild_dashboard_rollups`), and the
dashboard page is requested through Django's test client (the whole stack in one process:
middleware, view, selectors, template) for both tenants, repeatedly; median and p95 server time.

Also printed: the rebuild time, one incremental refresh after 5 minutes' worth of changes, and
two "plain aggregate" queries straight on the incidents, to show why the rollups exist.

Goals: the default page (last 30 days) under 300 ms at 500k, and at most 3x its time at 10k.

Usage (a throwaway database <name>_bench next to DATABASE_URL's is created and dropped):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_dashboards \\
        .venv/bin/python bench/dashboard_bench.py [--big 500000] [--small 10000] \\
        [--requests 30] [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dbsetup import bench_url as _bench_url  # noqa: E402
from dbsetup import one as _one  # noqa: E402
from dbsetup import recreate as _recreate  # noqa: E402
from dbsetup import setup_django  # noqa: E402
from dbsetup import sql as _sql  # noqa: E402

if TYPE_CHECKING:  # the apps are imported only once Django is set up
    from dashboards.services import RefreshResult


def _setup_django(url: str) -> None:
    # The page asks a worker for a refresh when its figures look stale; not during a bench.
    os.environ["DASHBOARD_REFRESH_SECONDS"] = "86400"
    setup_django(url)


GROUPS, AGENTS_PER_GROUP, CATEGORIES = 6, 6, 20


# --- the tenants' configuration (through the services and the ORM) ----------------------------
def make_tenant(slug: str):
    """A tenant with 6 groups of 6 agents, 20 categories routed to them, and a manager."""
    from escalation.services.defaults import sla_policy_for
    from incidents.models import AssignmentGroup, Category, GroupMember, PriorityLevel
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=slug, name=slug.title())
    groups = [
        AssignmentGroup.objects.create(tenant=tenant, name=f"Group {g}", slug=f"group-{g}")
        for g in range(GROUPS)
    ]
    users = User.objects.bulk_create(
        User(email=f"agent{g}-{a}@{slug}.test", full_name=f"Agent {g}-{a}")
        for g in range(GROUPS)
        for a in range(AGENTS_PER_GROUP)
    )
    Membership.objects.bulk_create(
        Membership(tenant=tenant, user=u, role=Role.AGENT) for u in users
    )
    GroupMember.objects.bulk_create(
        GroupMember(tenant=tenant, group=groups[i // AGENTS_PER_GROUP], user=u)
        for i, u in enumerate(users)
    )
    for c in range(CATEGORIES):
        Category.objects.create(
            tenant=tenant, name=f"Category {c}", slug=f"category-{c}", group=groups[c % GROUPS]
        )
    manager = User.objects.create_user(f"manager@{slug}.test", full_name="Bench Manager")
    Membership.objects.create(tenant=tenant, user=manager, role=Role.MANAGER)
    for level in PriorityLevel.objects.for_tenant(tenant):
        sla_policy_for(level)
    return tenant


LOOKUPS_SQL = """
CREATE TEMP TABLE b_cat ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY c.id) AS idx, c.id AS category_id, c.group_id,
         row_number() OVER (ORDER BY c.group_id) AS n
  FROM incidents_category c WHERE c.tenant_id = %(tenant)s;
CREATE TEMP TABLE b_agent ON COMMIT DROP AS
  SELECT gm.group_id, row_number() OVER (PARTITION BY gm.group_id ORDER BY gm.user_id) - 1 AS slot,
         gm.user_id
  FROM incidents_groupmember gm WHERE gm.tenant_id = %(tenant)s;
CREATE TEMP TABLE b_group ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY id) - 1 AS slot, id AS group_id
  FROM incidents_assignmentgroup WHERE tenant_id = %(tenant)s;
CREATE TEMP TABLE b_prio ON COMMIT DROP AS
  SELECT p.slug, p.id, p.rank, sp.id AS policy_id, sp.calendar_id,
         sp.response_seconds, sp.resolution_seconds
  FROM incidents_prioritylevel p
  JOIN escalation_slapolicy sp ON sp.priority_id = p.id
  WHERE p.tenant_id = %(tenant)s;
"""

# Timings per incident, from uniform draws: reports spread evenly over the year; acknowledgement
# 2 minutes to 10 hours later (most within an hour), resolution 20 minutes to 4 days after
# that; closure 1 hour to 3 days after resolution (the confirmation window); 4% cancelled,
# 3% reopened once, 45% of closures rated (mostly 4 and 5). Open incidents are what the clock
# has not reached yet. Priority: 10% high, 60% medium, 30% low.
INCIDENTS_SQL = f"""
INSERT INTO incidents_incident (tenant_id, number, title, description, state, version, impact,
  urgency, priority_id, priority_rank, category_id, group_id, assignee_id, contact_name,
  contact_email, hold_reason, resolution_code_id, resolution_notes, cause_category, root_cause,
  workaround, cancel_reason, satisfaction_rating, satisfaction_comment, reopen_count,
  reassignment_count, affected_count, reported_at, escalated_at, acknowledged_at, diagnosing_at,
  resolved_at, closed_at, cancelled_at, updated_at /*more_columns*/)
WITH r AS (
  SELECT n, %(start)s::timestamptz + (n::float8 / %(count)s) * interval '365 days'
           - random() * interval '20 minutes' AS reported_at,
         random() AS u_prio, random() AS u_cat, random() AS u_grp, random() AS u_agent,
         random() AS u_ack, random() AS u_res, random() AS u_close, random() AS u_rating,
         random() AS u_state
  FROM generate_series(1, %(count)s) AS n
), d AS (
  SELECT r.*,
    CASE WHEN u_prio < 0.1 THEN 'high' WHEN u_prio < 0.7 THEN 'medium' ELSE 'low' END AS prio,
    1 + floor(power(u_cat, 2) * {CATEGORIES})::int AS cat_idx,
    r.reported_at + interval '1 minute' * (2 + power(u_ack, 4) * 600) AS ack,
    r.reported_at + interval '1 minute' * (2 + power(u_ack, 4) * 600)
                  + interval '1 minute' * (20 + power(u_res, 3) * 5760) AS res,
    u_state < 0.04 AS cancel, u_state > 0.97 AS reopen
  FROM r
), e AS (
  SELECT d.*, c.category_id,
    CASE WHEN u_grp < 0.1 THEN g2.group_id ELSE c.group_id END AS group_id,
    CASE WHEN NOT cancel AND ack <= %(now)s THEN ack END AS acknowledged_at,
    CASE WHEN NOT cancel AND res <= %(now)s THEN res END AS resolved_at,
    CASE WHEN cancel AND reported_at + interval '30 minutes' <= %(now)s
         THEN reported_at + interval '30 minutes' END AS cancelled_at,
    CASE WHEN NOT cancel AND res + interval '1 hour' + u_close * interval '3 days' <= %(now)s
         THEN res + interval '1 hour' + u_close * interval '3 days' END AS closed_at
  FROM d
  JOIN b_cat c ON c.idx = d.cat_idx
  JOIN b_group g2 ON g2.slot = (d.cat_idx + 1) %% {GROUPS}
)
SELECT %(tenant)s, e.n, 'Bench incident ' || e.n, '',
  CASE WHEN cancelled_at IS NOT NULL THEN 'cancelled' WHEN closed_at IS NOT NULL THEN 'closed'
       WHEN resolved_at IS NOT NULL THEN 'resolved'
       WHEN acknowledged_at IS NULL THEN 'escalated'
       WHEN u_close < 0.15 THEN 'on_hold' ELSE 'diagnosing' END,
  1, p.slug, p.slug, p.id, p.rank, e.category_id, e.group_id,
  CASE WHEN acknowledged_at IS NOT NULL THEN a.user_id END, '', '',
  CASE WHEN cancelled_at IS NULL AND resolved_at IS NULL AND acknowledged_at IS NOT NULL
       AND u_close < 0.15 THEN 'awaiting_vendor' ELSE '' END,
  CASE WHEN resolved_at IS NOT NULL THEN %(code)s END, '', '', '', '', '',
  CASE WHEN closed_at IS NOT NULL AND u_rating < 0.45
       THEN 1 + floor(power(u_rating / 0.45, 0.4) * 5)::int END,
  '', CASE WHEN reopen AND resolved_at IS NOT NULL THEN 1 ELSE 0 END, 0, 1,
  e.reported_at, e.reported_at, acknowledged_at, acknowledged_at, resolved_at, closed_at,
  cancelled_at, GREATEST(e.reported_at, acknowledged_at, resolved_at, closed_at, cancelled_at)
  /*more_values*/
FROM e
JOIN b_prio p ON p.slug = e.prio
JOIN b_agent a ON a.group_id = e.group_id AND a.slot = floor(e.u_agent * {AGENTS_PER_GROUP})::int
"""

# Both clocks of every incident, in the state the incident's times give them (wall time stands
# in for business time here: the shape of the data is what matters for the timing).
CLOCKS_SQL = """
INSERT INTO escalation_slaclock (tenant_id, incident_id, metric, policy_id, calendar_id,
  priority_slug, target_seconds, warn_percents, pause_on, state, started_at, spent,
  running_since, due_at, next_check_at, checkpoints, breached_at, stopped_at /*more_columns*/)
SELECT i.tenant_id, i.id, m.metric, p.policy_id, p.calendar_id, p.slug, x.target,
  '[50, 80]'::jsonb, '["awaiting_caller"]'::jsonb,
  CASE WHEN i.state = 'cancelled' THEN 'stopped'
       WHEN x.took > x.limit_ THEN 'breached'
       WHEN x.ended IS NOT NULL AND (m.metric = 'response' OR i.state = 'closed') THEN 'met'
       WHEN x.ended IS NOT NULL THEN 'paused'
       ELSE 'running' END,
  i.reported_at, LEAST(x.took, x.limit_),
  CASE WHEN x.ended IS NULL AND i.state <> 'cancelled' AND x.took <= x.limit_
       THEN i.reported_at END,
  i.reported_at + x.limit_,
  CASE WHEN x.ended IS NULL AND i.state <> 'cancelled' AND x.took <= x.limit_
       THEN i.reported_at + x.limit_ END,
  '[]'::jsonb,
  CASE WHEN x.took > x.limit_ THEN i.reported_at + x.limit_ END,
  CASE WHEN m.metric = 'response' THEN COALESCE(i.acknowledged_at, i.cancelled_at)
       ELSE COALESCE(i.closed_at, i.cancelled_at) END /*more_values*/
FROM incidents_incident i
JOIN b_prio p ON p.id = i.priority_id
CROSS JOIN (VALUES ('response'), ('resolution')) AS m(metric)
CROSS JOIN LATERAL (
  SELECT CASE WHEN m.metric = 'response' THEN p.response_seconds ELSE p.resolution_seconds END
           AS target,
         CASE WHEN m.metric = 'response' THEN p.response_seconds ELSE p.resolution_seconds END
           * interval '1 second' AS limit_,
         CASE WHEN m.metric = 'response' THEN i.acknowledged_at ELSE i.resolved_at END AS ended,
         COALESCE(CASE WHEN m.metric = 'response' THEN i.acknowledged_at ELSE i.resolved_at END,
                  i.cancelled_at, %(now)s) - i.reported_at AS took
) x
WHERE i.tenant_id = %(tenant)s
"""

EVENTS_SQL = """
INSERT INTO incidents_incidentevent (tenant_id, incident_id, kind, transition, from_state,
  to_state, reason, incident_version, data, public, actor_kind, actor_name, created_at
  /*more_columns*/)
SELECT i.tenant_id, i.id, ev.kind, ev.transition, ev.from_state, ev.to_state, '', 1,
  '{}'::jsonb, true, 'system', 'Bench', ev.at /*more_values*/
FROM incidents_incident i
CROSS JOIN LATERAL (VALUES
  ('reported', '', '', 'reported', i.reported_at),
  ('transition', 'escalate', 'reported', 'escalated', i.escalated_at),
  ('transition', 'accept', 'escalated', 'diagnosing', i.acknowledged_at),
  ('transition', 'resolve', 'diagnosing', 'resolved',
     CASE WHEN i.reopen_count > 0
          THEN i.acknowledged_at + (i.resolved_at - i.acknowledged_at) / 3 END),
  ('transition', 'reopen', 'resolved', 'diagnosing',
     CASE WHEN i.reopen_count > 0
          THEN i.acknowledged_at + (i.resolved_at - i.acknowledged_at) / 2 END),
  ('transition', 'resolve', 'diagnosing', 'resolved', i.resolved_at),
  ('transition', 'close', 'resolved', 'closed', i.closed_at),
  ('transition', 'cancel', 'escalated', 'cancelled', i.cancelled_at)
) AS ev(kind, transition, from_state, to_state, at)
WHERE i.tenant_id = %(tenant)s AND ev.at IS NOT NULL
"""


def complete(sql: str, model) -> tuple[str, dict]:
    """The statement with the model's required columns it does not name (NOT NULL, no
    database default: added by a later migration) set to the model's default, so that a new
    column does not break the bench."""
    from django.db import connection

    head = sql[sql.index("(") + 1 : sql.index("/*more_columns*/")]
    named = {name.strip() for name in head.replace("\n", " ").split(",")}
    columns, values, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.null or field.column in named:
            continue
        key = f"fill_{field.column}"
        columns.append(f", {field.column}")
        values.append(f", %({key})s")
        params[key] = field.get_db_prep_save(field.get_default(), connection)
    sql = sql.replace("/*more_columns*/", "".join(columns))
    return sql.replace("/*more_values*/", "".join(values)), params


def fill(tenant, count: int) -> dict[str, int]:
    from django.db import transaction
    from django.utils import timezone

    from escalation.models import SlaClock
    from incidents.models import Incident, IncidentEvent, ResolutionCode
    from tenancy.models import TenantCounter

    now = timezone.now()
    params = {
        "tenant": tenant.pk,
        "count": count,
        "now": now,
        "start": now - timedelta(days=365),
        "code": ResolutionCode.objects.for_tenant(tenant).values_list("id", flat=True).first(),
    }
    with transaction.atomic():
        _sql(LOOKUPS_SQL, params)
        counts = []
        for statement, model in (
            (INCIDENTS_SQL, Incident),
            (CLOCKS_SQL, SlaClock),
            (EVENTS_SQL, IncidentEvent),
        ):
            sql, extra = complete(statement, model)
            counts.append(_sql(sql, {**params, **extra}))
        incidents, clocks, events = counts
    TenantCounter.objects.filter(tenant=tenant, name="incident").update(value=count)
    return {"incidents": incidents, "clocks": clocks, "events": events}


# --- measuring --------------------------------------------------------------------------------
def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return statistics.median(samples), p95


def page_times(slug: str, query: str, requests: int, cold: bool) -> tuple[float, float]:
    """Server time of the page. Cold: the period's figures are computed from the derived tables
    on every request (their cache emptied first, as after a refresh that changed them); warm:
    read from the cache, as every look after the first within a refresh interval, and the
    standard periods always (the refresh task computes them)."""
    from django.test import Client

    from dashboards.models import FiguresCache
    from tenancy.models import User

    client = Client()
    client.force_login(User.objects.get(email=f"manager@{slug}.test"))
    url = f"/t/{slug}/dashboards/{query}"
    for _ in range(3):  # warm caches and connections
        assert client.get(url).status_code == 200
    samples = []
    for _ in range(requests):
        if cold:
            FiguresCache.objects.filter(tenant__slug=slug).delete()
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return _percentiles(samples)


PLAIN_SQL = {
    "created per day, 30 days, straight on incidents": """
        SELECT date_trunc('day', reported_at), count(*) FROM incidents_incident
        WHERE tenant_id = %(tenant)s AND reported_at >= now() - interval '30 days' GROUP BY 1""",
    "median/p90 time to resolve, 30 days, incidents + clocks": """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY i.resolved_at - i.reported_at),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY c.spent)
        FROM incidents_incident i JOIN escalation_slaclock c
          ON c.incident_id = i.id AND c.metric = 'resolution'
        WHERE i.tenant_id = %(tenant)s AND i.resolved_at >= now() - interval '30 days'""",
}


def plain_times(tenant, runs: int = 5) -> dict[str, float]:
    out = {}
    for name, statement in PLAIN_SQL.items():
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            _one(statement, {"tenant": tenant.pk})
            samples.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(samples)
    return out


def refresh_after_activity(tenant, changed: int = 500) -> tuple[float, RefreshResult]:
    """About five minutes of a busy desk: `changed` recent incidents written to, then a refresh."""
    from dashboards.services import rollups_refresh

    _sql(
        "UPDATE incidents_incident SET updated_at = now() WHERE id IN (SELECT id FROM "
        "incidents_incident WHERE tenant_id = %s ORDER BY reported_at DESC LIMIT %s)",
        [tenant.pk, changed],
    )
    started = time.perf_counter()
    result = rollups_refresh(tenant=tenant)
    return time.perf_counter() - started, result


# --- the run ----------------------------------------------------------------------------------
VIEWS = {
    "last 30 days (default)": "",
    "last 90 days": "?period=90",
    "last 30 days, one group": None,  # filled in with the tenant's first group
}


def _views(tenant) -> dict[str, str]:
    from incidents.models import AssignmentGroup

    first = AssignmentGroup.objects.for_tenant(tenant).order_by("id").first()
    assert first is not None, "make_tenant gives every bench tenant its groups"
    return {k: (v if v is not None else f"?group={first.pk}") for k, v in VIEWS.items()}


def fill_all(sizes: dict[str, int]) -> None:
    for slug, count in sizes.items():
        started = time.perf_counter()
        made = fill(make_tenant(slug), count)
        print(
            f"{slug}: {made['incidents']:,} incidents, {made['clocks']:,} clocks, "
            f"{made['events']:,} events in {time.perf_counter() - started:.0f} s"
        )
    for table in ("incidents_incident", "escalation_slaclock", "incidents_incidentevent"):
        _sql(f"VACUUM ANALYZE {table}")


def rebuild_all(sizes: dict[str, int]) -> None:
    from dashboards.services import rollups_rebuild
    from tenancy.models import Tenant

    for slug in sizes:
        started = time.perf_counter()
        result = rollups_rebuild(tenant=Tenant.objects.get(slug=slug))
        print(
            f"{slug}: rebuild_dashboard_rollups: {result.incidents:,} facts, "
            f"{result.rows:,} rollup rows in {time.perf_counter() - started:.1f} s"
        )
    for table in (
        "dashboards_incidentfact",
        "dashboards_dailyrollup",
        "dashboards_cumulativecounts",
        "dashboards_calendarwindow",
    ):
        _sql(f"VACUUM ANALYZE {table}")


def measure(sizes: dict[str, int], requests: int) -> bool:
    from tenancy.models import Tenant

    tenants = {slug: Tenant.objects.get(slug=slug) for slug in sizes}
    big, small = list(sizes)
    results: dict[tuple[str, str, bool], tuple[float, float]] = {}
    print(f"\nDashboard page, {requests} requests each (ms); load average {_load()}")
    print(f"{'view':32} {'figures':6} {'tenant':12} {'incidents':>10} {'median':>8} {'p95':>8}")
    for view in VIEWS:
        for cold in (False, True):
            for slug in sizes:
                query = _views(tenants[slug])[view]
                median, p95 = results[(view, slug, cold)] = page_times(slug, query, requests, cold)
                print(
                    f"{view:32} {'cold' if cold else 'warm':6} {slug:12} {sizes[slug]:>10,} "
                    f"{median:8.1f} {p95:8.1f}"
                )
    default = next(iter(VIEWS))
    ok = True
    for cold in (False, True):
        (bm, bp), (sm, sp) = results[(default, big, cold)], results[(default, small, cold)]
        ok = ok and bp < 300 and bm <= 3 * sm
        print(
            f"\nDefault view, {'cold' if cold else 'warm'}: {big} median {bm:.1f} ms (p95 "
            f"{bp:.1f}); {small} median {sm:.1f} ms (p95 {sp:.1f}); ratio of medians "
            f"{bm / sm:.2f}x, of p95s {bp / sp:.2f}x"
        )
    print("\nPlain aggregates straight on the big tenant's incidents (what the rollups avoid):")
    for name, ms in plain_times(tenants[big]).items():
        print(f"  {name}: {ms:.1f} ms")
    took, result = refresh_after_activity(tenants[big])
    print(
        f"\nIncremental refresh of {big} after 500 incidents changed: {took * 1000:.0f} ms "
        f"({result.incidents:,} incidents, {result.days} days recomputed, standard periods "
        f"warmed); load average {_load()}"
    )
    print("\nGoals (under 300 ms at 500k; at most 3x the 10k time):", "met" if ok else "MISSED")
    return ok


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--big", type=int, default=500_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept bench database again")
    parser.add_argument(
        "--rebuild", action="store_true", help="with --reuse: rebuild the dashboard tables first"
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_dashboards")
    if not url.startswith("postgres"):
        sys.exit("The benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    bench_url, admin_url, name = _bench_url(url)
    if not args.reuse:
        _recreate(admin_url, name)
    sizes = {"bench-big": args.big, "bench-small": args.small}
    ok = False
    try:
        _setup_django(bench_url)
        if not args.reuse:
            fill_all(sizes)
        if args.rebuild or not args.reuse:
            rebuild_all(sizes)
        ok = measure(sizes, args.requests)
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            _recreate(admin_url, name, drop_only=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
