"""What the second wall between tenants costs: the desk's queue pages and API creates with
PostgreSQL row-level security on and off, in one run (tenancy/rls.py).

Uses queue_bench's tenants (bench-big with N incidents and bench-small with N/20: the policy has
another tenant's rows to leave out), fills them when missing (API creates go to a third,
bench-rls-api), then measures through Django's test
client (the full stack, no network), the wall on and off in turns per request so that the
machine's drift weighs on both alike. Prints median and p95 per page, on and off, and the ratio;
the goal (issue 17) is under 5% on the medians.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench \\
        .venv/bin/python bench/rls_bench.py [--n 200000] [--requests 40] [--creates 300]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")
os.environ.setdefault("API_RATE_LIMIT_PER_MINUTE", "0")  # the bench is one key, as fast as it goes
sys.path.insert(0, str(Path(__file__).resolve().parent))

import queue_bench  # noqa: E402  (sets Django up)
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from tenancy.apikeys import api_key_create  # noqa: E402
from tenancy.models import Tenant, User  # noqa: E402
from tenancy.services import tenant_create  # noqa: E402

PAGES = ("mine", "unassigned", "open", "breaching", "history")


def _timed(client: Client, method: str, url: str, wall: bool, **extra) -> float:
    settings.DATABASE_RLS = wall
    started = time.perf_counter()
    response = getattr(client, method)(url, **extra)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 201), (url, response.status_code, response.content[:300])
    return elapsed


def measure_pages(tenant: Tenant, requests: int, warmup: int) -> dict[str, dict[str, Any]]:
    client = Client()
    client.force_login(User.objects.get(email=f"agent0-0@{tenant.slug}.bench"))
    urls = {slug: f"/t/{tenant.slug}/desk/?queue={slug}" for slug in PAGES}
    urls["search"] = f"/t/{tenant.slug}/desk/?queue=open&q=printer&in_queue=1"
    times: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name in urls}
    for round_ in range(warmup + requests):
        for name, url in urls.items():
            for wall in (round_ % 2 == 0, round_ % 2 == 1):  # which goes first alternates
                elapsed = _timed(client, "get", url, wall)
                if round_ >= warmup:
                    times[name][wall].append(elapsed)
    return {name: _on_off(values) for name, values in times.items()}


def measure_creates(tenant: Tenant, creates: int) -> dict[str, Any]:
    _, key = api_key_create(tenant=tenant, name=f"rls bench {time.time():.0f}", scopes=["write"])
    client = Client(headers={"Authorization": f"Bearer {key}"})
    times: dict[bool, list[float]] = {True: [], False: []}
    body = {"title": "Printer on floor 3 prints blank pages", "impact": "low", "urgency": "low"}
    for i in range(creates + 10):
        for wall in (i % 2 == 0, i % 2 == 1):
            elapsed = _timed(
                client,
                "post",
                "/api/v1/incidents/",
                wall,
                data=body,
                content_type="application/json",
            )
            if i >= 10:
                times[wall].append(elapsed)
    return _on_off(times)


def measure_statement(tenant: Tenant, n: int) -> dict[str, Any]:
    """One indexed read by primary key in the tenant's scope, n times each way in turns: what
    the wall adds to every statement (the role and tenant set in the same round trip, and the
    policy's predicate)."""
    from incidents.models import Incident
    from tenancy import rls

    pks = list(Incident.objects.for_tenant(tenant).values_list("pk", flat=True)[:n])
    times: dict[bool, list[float]] = {True: [], False: []}
    with rls.tenant_scope(tenant.pk):
        for i, pk in enumerate(pks):
            for wall in (i % 2 == 0, i % 2 == 1):
                settings.DATABASE_RLS = wall
                started = time.perf_counter()
                Incident.objects.for_tenant(tenant).filter(pk=pk).first()
                times[wall].append((time.perf_counter() - started) * 1000)
    return _on_off(times)


def _on_off(values: dict[bool, list[float]]) -> dict[str, Any]:
    on, off = queue_bench._stats(values[True]), queue_bench._stats(values[False])
    return {"on": on, "off": off, "ratio": on["median"] / off["median"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="incidents in bench-big")
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument("--creates", type=int, default=300, help="measured API creates")
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--statements", type=int, default=2000, help="single reads measured")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not settings.IS_POSTGRES:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (row-level security is PostgreSQL's).")
    call_command("migrate", verbosity=0)
    fill = argparse.Namespace(fresh=False, open_share=0.05, events=False)
    print("Tenants (queue_bench's):")
    big = queue_bench.tenant_for("bench-big", args.n, fill)
    queue_bench.tenant_for("bench-small", max(1, args.n // 20), fill)
    # Statistics on every table, as autovacuum keeps them in use: the policies' restrictions
    # on the small tables a queue joins (priority levels, groups) are estimated from them, and
    # without them the planner takes a tenant's 20,000 incidents for 69 and sorts them all.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    results = measure_pages(big, args.requests, args.warmup)
    # Creates go to a tenant of their own, so bench-big keeps its size for the next run.
    api_tenant = Tenant.objects.filter(slug="bench-rls-api").first()
    api_tenant = api_tenant or tenant_create(slug="bench-rls-api", name="Bench RLS API")
    results["API create"] = measure_creates(api_tenant, args.creates)
    results["one statement"] = measure_statement(big, args.statements)
    print(f"\nbench-big, {args.n:,} incidents; ms, wall on vs off in turns")
    print(f"{'measured':<16}{'on p50':>9}{'off p50':>9}{'on p95':>9}{'off p95':>9}{'on/off':>9}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['on']['median']:>9.2f}{r['off']['median']:>9.2f}"
            f"{r['on']['p95']:>9.2f}{r['off']['p95']:>9.2f}{r['ratio']:>9.3f}"
        )
    worst: float = max(float(r["ratio"]) for r in results.values())
    print(f"worst median ratio {worst:.3f} (goal under 1.05)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if worst < 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
