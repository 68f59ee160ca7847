"""What one incident costs the database (issue 19, docs/scaling.md): the rows and statements a
report -> reply -> accept -> note -> resolve -> close cycle writes, through the services, and the
bytes per row of every table and index as they stand, to extrapolate to 100 million incidents.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_scale REDIS_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python bench/scale_bench.py [--cycles 300] [--incidents 100000000]

Runs on the database named (fill it first with `bench/queue_bench.py --events --explain` for
large tables whose sizes mean something); loads the demo tenants when missing. Celery runs its
tasks in the process (mails to memory), so deliveries' writes count too.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from dashboards.tasks import refresh_tenant_rollups  # noqa: E402
from incidents.models import Category  # noqa: E402
from incidents.services import (  # noqa: E402
    comment_add,
    incident_accept,
    incident_close,
    incident_report,
    incident_resolve,
)
from servicedesk.celery import app  # noqa: E402
from tenancy.actors import Actor  # noqa: E402
from tenancy.models import Membership, Tenant  # noqa: E402

STATS = """
    SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_user_tables
    WHERE schemaname = 'public'
"""

SIZES = """
    SELECT c.relname, GREATEST(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid),
           pg_relation_size(c.oid) + COALESCE(pg_total_relation_size(c.reltoastrelid), 0)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r'
"""

INDEXES = """
    SELECT t.relname, i.relname, pg_relation_size(i.oid)
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
"""


WALL = re.compile(r"^SELECT set_config\([^;]*;\s*")
# Tables that grow with the incidents; the others grow with tenants and days (rollups) or not.
PER_INCIDENT = 0.1


def _stats() -> dict[str, tuple[int, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute(STATS)
        return {name: (ins, upd, dele) for name, ins, upd, dele in cursor.fetchall()}


def _member(tenant: Tenant, email: str) -> Actor:
    membership = Membership.objects.select_related("tenant", "user").get(
        tenant=tenant, user__email=email
    )
    return Actor.member(membership)


def cycle(tenant: Tenant, n: int, category: Category) -> None:
    rita = _member(tenant, "requester@acme.test")
    alice = _member(tenant, "agent@acme.test")
    code = "solved-permanently"
    for i in range(n):
        incident = incident_report(
            actor=rita,
            title=f"VPN drops every few minutes ({i})",
            description="Since this morning the VPN drops every few minutes; reconnecting works.",
            category=category,
        )
        comment_add(incident=incident, actor=alice, body="Looking into it: which client version?")
        comment_add(incident=incident, actor=rita, body="The one installed last week, 5.2.")
        incident = incident_accept(incident=incident, actor=alice)
        comment_add(
            incident=incident, actor=alice, body="Known issue with 5.2, rolling back.", public=False
        )
        incident = incident_resolve(
            incident=incident,
            actor=alice,
            resolution_code=code,
            resolution_notes="Rolled the client back to 5.1; the drops stopped.",
        )
        incident_close(incident=incident, actor=rita, rating=5)


def measure_cycle(n: int) -> tuple[dict[str, tuple[float, float, float]], float, float]:
    tenant = Tenant.objects.get(slug="acme")
    category = Category.objects.for_tenant(tenant).get(slug="network")
    statements: Counter[str] = Counter()

    def count(execute, sql, params, many, context):
        # The tenant wall's prefix (tenancy/rls.py) is not a statement of the desk's own.
        statements[WALL.sub("", sql).split(None, 1)[0].upper()] += 1
        return execute(sql, params, many, context)

    before = _stats()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        cycle(tenant, n, category)
        refresh_tenant_rollups(tenant.pk)
    elapsed = time.perf_counter() - started
    after = _stats()
    rows = {}
    for table, (ins, upd, dele) in after.items():
        b = before.get(table, (0, 0, 0))
        delta = (ins - b[0], upd - b[1], dele - b[2])
        if any(delta):
            rows[table] = (delta[0] / n, delta[1] / n, delta[2] / n)
    writes = sum(statements[k] for k in ("INSERT", "UPDATE", "DELETE", "WITH")) / n
    print(f"\n{n} cycles in {elapsed:.1f} s; statements per cycle:")
    for verb, number in statements.most_common():
        print(f"  {verb:<10} {number / n:7.1f}")
    return rows, writes, sum(statements.values()) / n


def report(rows, incidents: int) -> None:
    with connection.cursor() as cursor:  # sizes as autovacuum keeps them, statistics fresh
        cursor.execute("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute(SIZES)
        sizes = {name: (tuples, total, heap) for name, tuples, total, heap in cursor.fetchall()}
        cursor.execute(INDEXES)
        indexes = cursor.fetchall()
    print("\nrows written per incident (insert / update / delete), bytes per row, at scale:")
    print(
        f"{'table':<32} {'ins':>5} {'upd':>5} {'del':>5} {'rows now':>10} {'B/row':>6} "
        f"{'heap B/row':>10} {'at scale':>10}"
    )
    for table, (ins, upd, dele) in sorted(rows.items(), key=lambda r: -r[1][0]):
        tuples, total, heap = sizes.get(table, (0, 0, 0))
        per_row = total / tuples if tuples else 0
        net = ins - dele
        scale = net * incidents * per_row if net >= PER_INCIDENT else 0
        print(
            f"{table:<32} {ins:5.2f} {upd:5.2f} {dele:5.2f} {tuples:10,} {per_row:6.0f} "
            f"{(heap / tuples if tuples else 0):10.0f} {scale / 1e9:8.1f} GB"
        )
    print("\nindexes of the tables above (bytes per row of their table, and at scale):")
    for table, index, size in sorted(indexes):
        if table in rows and sizes[table][0] and rows[table][0] - rows[table][2] >= PER_INCIDENT:
            per = size / sizes[table][0]
            net = rows[table][0] - rows[table][2]
            print(f"  {table:<30} {index:<48} {per:6.0f} B {net * incidents * per / 1e9:8.1f} GB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--incidents", type=int, default=100_000_000, help="extrapolate to")
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (see bench/README.md).")
    call_command("migrate", verbosity=0)
    if not Tenant.objects.filter(slug="acme").exists():
        call_command("load_demo", "--empty", verbosity=0)
    app.conf.task_always_eager = True  # deliveries run here: their writes count
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rows, writes, statements = measure_cycle(args.cycles)
    print(f"write statements per cycle: {writes:.1f} (all statements: {statements:.1f})")
    report(rows, args.incidents)
    return 0


if __name__ == "__main__":
    sys.exit(main())
