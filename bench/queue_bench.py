"""How the desk's queue page scales: server time at N incidents and at N/20.

Fills two tenants (bench-big with N incidents, bench-small with N/20), bulk-inserted in batches
with bulk_create, optionally with their events, with comments on some and SLA clocks on every
open incident, then requests each queue page (History too) and searches (whole tenant and "this
queue only"; a common word, rare words in a description and in a comment, a word nothing holds)
through Django's test client (the full stack: middleware, views, selectors, templates; no
network) and reports the median and p95 server time at both sizes and their ratio. The goal:
for every page, p95 at N no more than 1.5x the p95 at N/20.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench \\
        .venv/bin/python bench/queue_bench.py [--n 200000] [--requests 60] [--events]

See bench/README.md. The tenants are kept between runs (a second run measures at once); --fresh
rebuilds them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
# Filling tenants is a system job; the requests measured set their own scope (tenancy/rls.py).
os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")

import django  # noqa: E402

django.setup()

import seeding  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from seeding import NO_MATCH_WORD, RARE_COMMENT_WORD, RARE_WORD  # noqa: E402

from desk.selectors import (  # noqa: E402
    QUEUES,
    QueueFilters,
    agent_group_ids,
    queue_queryset,
)
from tenancy.models import Tenant, User  # noqa: E402

GOAL = 1.5  # p95 at N over p95 at N/20, for every page measured
SEARCHES = {  # the whole tenant's search: a word in 1 of 12 incidents, and rare ones
    "common": "printer",
    "rare": RARE_WORD,
    "rare, comment": RARE_COMMENT_WORD,
    "no match": NO_MATCH_WORD,
}


def tenant_for(slug: str, n: int, args: argparse.Namespace) -> Tenant:
    return seeding.tenant_for(
        slug, n, fresh=args.fresh, open_share=args.open_share, events=args.events
    )


# --- measuring --------------------------------------------------------------------------------
def _urls(tenant: Tenant) -> dict[str, str]:
    base = f"/t/{tenant.slug}/desk/"
    urls = {slug: f"{base}?queue={slug}" for slug in QUEUES}
    # A search reads the whole tenant (History) unless "this queue only" (in_queue) is ticked.
    for label, word in SEARCHES.items():
        urls[f"search {label}"] = f"{base}?queue=mine&q={word}"
    urls["open + search common"] = f"{base}?queue=open&q=printer&in_queue=1"
    urls["open + search rare"] = f"{base}?queue=open&q={RARE_WORD}&in_queue=1"
    urls["open + filters"] = f"{base}?queue=open&state=diagnosing&priority=&group=&assignee=none"
    return urls


def _deep_page(client: Client, url: str, pages: int) -> str:
    """Follow "Next page" `pages` times: keyset pages cost the same however deep."""
    import html
    import re

    for _ in range(pages):
        body = client.get(url).content.decode()
        found = re.search(r'<a href="([^"]+)" rel="next">', body)
        if not found:
            break
        url = html.unescape(found.group(1))
    return url


def measure(tenants: dict[str, Tenant], requests: int, warmup: int) -> dict[str, dict]:
    clients, urls = {}, {}
    for size, tenant in tenants.items():
        agent = User.objects.get(email=f"agent0-0@{tenant.slug}.bench")
        clients[size] = Client()
        clients[size].force_login(agent)
        urls[size] = _urls(tenant)
        urls[size]["open, page 20"] = _deep_page(clients[size], urls[size]["open"], 20)
        urls[size]["history, page 20"] = _deep_page(clients[size], urls[size]["history"], 20)
    timings: dict[str, dict[str, list[float]]] = {size: {} for size in tenants}
    for round_ in range(warmup + requests):
        for size in tenants:  # interleaved, so drift on a shared machine hits both sizes
            for name, url in urls[size].items():
                started = time.perf_counter()
                response = clients[size].get(url)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (url, response.status_code)
                if round_ >= warmup:
                    timings[size].setdefault(name, []).append(elapsed)
    return {
        size: {name: _stats(values) for name, values in per_queue.items()}
        for size, per_queue in timings.items()
    }


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median": statistics.median(ordered), "p95": p95}


def explain(tenants: dict[str, Tenant]) -> None:
    """The database's own time for the All open page and its count, at both sizes."""
    for tenant in tenants.values():
        agent = User.objects.get(email=f"agent0-0@{tenant.slug}.bench")
        group_ids = agent_group_ids(tenant=tenant, user=agent)
        searches = [("history", word) for word in SEARCHES.values()]
        for queue, q in (("open", ""), ("mine", ""), ("open", "printer"), *searches):
            qs = queue_queryset(
                tenant=tenant,
                user=agent,
                group_ids=group_ids,
                queue=queue,
                filters=QueueFilters(q=q),
            )
            page = qs.order_by(*QUEUES[queue].order)[:51].explain(analyze=True, buffers=True)
            count = qs.values("id")[:1000].explain(analyze=True)
            print(f"\n--- {tenant.slug}, {queue}{' q=' + q if q else ''}: page ---\n{page}")
            print(f"--- count (capped) ---\n{count}")


def report(results: dict[str, dict], sizes: dict[str, int]) -> bool:
    big, small = "big", "small"
    print(
        f"\nQueue page server time (ms), Django test client, {connection.vendor}, "
        f"agent in 2 of {seeding.QUEUE_STAFF.groups} groups"
    )
    header = (
        f"{'queue':<18}{'N=' + format(sizes[big], ','):>22}{'N=' + format(sizes[small], ','):>22}"
    )
    print(header + f"{'p95 ratio':>11}")
    print(f"{'':<18}{'median':>11}{'p95':>11}{'median':>11}{'p95':>11}")
    for name in results[big]:
        b, s = results[big][name], results[small][name]
        ratio = b["p95"] / s["p95"]
        print(
            f"{name:<18}{b['median']:>11.1f}{b['p95']:>11.1f}{s['median']:>11.1f}"
            f"{s['p95']:>11.1f}{ratio:>10.2f}x"
        )
    missed = [
        name
        for name in results[big]
        if results[big][name]["p95"] > GOAL * results[small][name]["p95"]
    ]
    worst = max(results[big][n]["p95"] / results[small][n]["p95"] for n in results[big])
    verdict = "met" if not missed else f"NOT met by {', '.join(missed)}"
    print(f"\nGoal (every page): p95 ratio <= {GOAL}x (worst {worst:.2f}x): {verdict}")
    return not missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="incidents in the big tenant")
    parser.add_argument("--requests", type=int, default=60, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--open-share", type=float, default=0.05, help="share still open")
    parser.add_argument("--events", action="store_true", help="also write 1-2 events each")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench tenants")
    parser.add_argument("--drop", action="store_true", help="delete the bench tenants and stop")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--explain", action="store_true", help="print the query plans and stop")
    args = parser.parse_args()
    if not settings.IS_POSTGRES and not os.environ.get("BENCH_ALLOW_SQLITE"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (see bench/README.md).")
    call_command("migrate", verbosity=0)
    sizes = {"big": args.n, "small": max(1, args.n // 20)}
    if args.drop:
        for slug in ("bench-big", "bench-small"):
            if (tenant := Tenant.objects.filter(slug=slug).first()) is not None:
                seeding.drop(tenant)
        return 0
    print("Filling (bulk_create in batches of 5,000):")
    tenants = {size: tenant_for(f"bench-{size}", n, args) for size, n in sizes.items()}
    if settings.IS_POSTGRES:
        with connection.cursor() as cursor:  # fresh statistics and visibility map, as in use
            cursor.execute("VACUUM ANALYZE incidents_incident")
    if args.explain:
        explain(tenants)
        return 0
    results = measure(tenants, args.requests, args.warmup)
    ok = report(results, sizes)
    if args.json:
        args.json.write_text(json.dumps({"sizes": sizes, "results": results}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
