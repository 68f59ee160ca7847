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
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
# Filling tenants is a system job; the requests measured set their own scope (tenancy/rls.py).
os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from desk.selectors import (  # noqa: E402
    QUEUES,
    QueueFilters,
    agent_group_ids,
    queue_queryset,
)
from escalation.models import ClockState, Metric, SlaClock, SlaPolicy  # noqa: E402
from escalation.selectors.sla import sla_policies_for_tenant  # noqa: E402
from incidents.models import (  # noqa: E402
    AssignmentGroup,
    Category,
    Comment,
    GroupMember,
    HoldReason,
    Incident,
    IncidentEvent,
    ResolutionCode,
)
from incidents.services.common import event_row  # noqa: E402
from incidents.services.priority import matrix_for  # noqa: E402
from tenancy.actors import Actor  # noqa: E402
from tenancy.models import Membership, Role, Tenant, TenantCounter, User  # noqa: E402
from tenancy.services import tenant_create  # noqa: E402

BATCH = 5_000
GOAL = 1.5  # p95 at N over p95 at N/20, for every page measured
GROUPS, AGENTS_PER_GROUP, REQUESTERS, CATEGORIES = 8, 5, 200, 12
OPEN_STATES = [("reported", 0.10), ("escalated", 0.30), ("diagnosing", 0.40), ("on_hold", 0.20)]
WORDS = (  # noqa: SIM905 (a sentence reads better than a column of quoted words)
    "vpn printer email laptop password wifi outlook teams badge monitor server backup disk "
    "network phone license invoice portal report database login screen keyboard camera"
).split()
# A word only RARE_COUNT incidents of each tenant hold (in the description), another only
# RARE_COUNT comments: the same handful at both sizes, so their search finds the same rows.
RARE_WORD, RARE_COMMENT_WORD, NO_MATCH_WORD, RARE_COUNT = "zeppelin", "kerberos", "quokka", 3
SEARCHES = {  # the whole tenant's search: a word in 1 of 12 incidents, and rare ones
    "common": "printer",
    "rare": RARE_WORD,
    "rare, comment": RARE_COMMENT_WORD,
    "no match": NO_MATCH_WORD,
}
COMMENT_SHARE = 0.02  # incidents with one comment (a reply or an internal note)
PROBLEMS = (  # noqa: SIM905
    "drops, is slow, does not start, shows an error, is locked, keeps crashing, is missing, "
    "cannot connect, asks again and again, went offline"
).split(", ")


# --- filling ----------------------------------------------------------------------------------
def _people(tenant: Tenant, tag: str) -> dict[str, Any]:
    """Groups of agents, requesters and routed categories; agent 0 is the one measured."""
    groups = [
        AssignmentGroup.objects.create(tenant=tenant, name=f"Group {g}", slug=f"group-{g}")
        for g in range(GROUPS)
    ]
    members: dict[int, list[User]] = {}
    for g, group in enumerate(groups):
        for a in range(AGENTS_PER_GROUP):
            user = User.objects.create_user(f"agent{g}-{a}@{tag}.bench", full_name=f"Agent {g}-{a}")
            Membership.objects.create(tenant=tenant, user=user, role=Role.AGENT)
            GroupMember.objects.create(tenant=tenant, group=group, user=user)
            members.setdefault(group.pk, []).append(user)
    measured = members[groups[0].pk][0]
    GroupMember.objects.create(tenant=tenant, group=groups[1], user=measured)
    requesters = []
    for r in range(REQUESTERS):
        user = User.objects.create_user(f"user{r}@{tag}.bench", full_name=f"User {r}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
        requesters.append(user)
    categories = [
        Category.objects.create(
            tenant=tenant, name=f"Category {c}", slug=f"category-{c}", group=groups[c % GROUPS]
        )
        for c in range(CATEGORIES)
    ]
    return {
        "groups": groups,
        "members": members,
        "requesters": requesters,
        "categories": categories,
        "measured": measured,
    }


def _pick_state(rng: random.Random, open_share: float) -> str:
    roll = rng.random()
    if roll < open_share:
        roll = rng.random()
        for state, weight in OPEN_STATES:
            if roll < weight:
                return state
            roll -= weight
        return "diagnosing"
    if roll < open_share + 0.02:
        return "resolved"
    return "cancelled" if rng.random() < 0.05 else "closed"


def _incident(tenant, number, rng, ctx, open_share, now, rare) -> Incident:
    state = _pick_state(rng, open_share)
    is_open = state in ("reported", "escalated", "diagnosing", "on_hold")
    # Open incidents are recent; the history spreads over three years.
    age = timedelta(seconds=rng.uniform(0, (60 if is_open else 3 * 365) * 86_400))
    impact, urgency = rng.choice("hml"), rng.choice("hml")
    names = {"h": "high", "m": "medium", "l": "low"}
    level = ctx["matrix"][names[impact]][names[urgency]]
    category = rng.choice(ctx["categories"])
    group = category.group if state != "reported" else None
    assignee = None
    if group is not None and (state != "escalated" or rng.random() < 0.5):
        assignee = rng.choice(ctx["members"][group.pk])
    reported_at = now - age
    return Incident(
        tenant=tenant,
        number=number,
        state=state,
        title=f"{rng.choice(WORDS).capitalize()} {rng.choice(PROBLEMS)}",
        description=f"Since this morning the {rng.choice(WORDS)} {rng.choice(PROBLEMS)}."
        + (f" The {RARE_WORD} sensor again." if number in rare else ""),
        impact=names[impact],
        urgency=names[urgency],
        priority=level,
        priority_rank=level.rank,
        reporter=rng.choice(ctx["requesters"]),
        category=category,
        group=group,
        assignee=assignee,
        reported_at=reported_at,
        updated_at=reported_at + timedelta(minutes=rng.randint(1, 600)),
        hold_reason=rng.choice(HoldReason.values) if state == "on_hold" else "",
        resolution_code=ctx["code"] if state in ("resolved", "closed") else None,
        resolution_notes="Fixed." if state in ("resolved", "closed") else "",
    )


def _events(tenant: Tenant, incidents: list[Incident]) -> list[IncidentEvent]:
    bench, routing = Actor.system(tenant, "Bench"), Actor.system(tenant, "Routing")
    events = []
    for i in incidents:
        events.append(
            event_row(
                actor=bench,
                incident_id=i.pk,
                version=1,
                at=i.reported_at,
                kind="reported",
                to_state="reported",
            )
        )
        if i.state != "reported":
            events.append(
                event_row(
                    actor=routing,
                    incident_id=i.pk,
                    version=2,
                    at=i.reported_at + timedelta(seconds=1),
                    kind="transition",
                    transition="escalate",
                    from_state="reported",
                    to_state="escalated",
                )
            )
    return events


def _comments(tenant: Tenant, incidents: list[Incident], rng, rare: set[int]) -> list[Comment]:
    """A reply or note on COMMENT_SHARE of the incidents; RARE_COUNT of them hold the rare word."""
    rows = []
    for i in incidents:
        if i.number in rare:
            body = f"Checked the {RARE_COMMENT_WORD} tickets: expired."
        elif rng.random() < COMMENT_SHARE:
            body = f"Tried again, the {rng.choice(WORDS)} still {rng.choice(PROBLEMS)}."
        else:
            continue
        rows.append(
            Comment(
                tenant=tenant,
                incident=i,
                author_name="Agent",
                body=body,
                public=rng.random() < 0.5,
                created_at=i.reported_at + timedelta(minutes=5),
            )
        )
    return rows


def fill(tenant: Tenant, n: int, *, open_share: float, events: bool, seed: int) -> None:
    rng = random.Random(seed)
    rare = set(rng.sample(range(1, n + 1), RARE_COUNT))
    rare_comment = set(rng.sample(range(1, n + 1), RARE_COUNT))
    ctx = _people(tenant, tenant.slug)
    ctx["matrix"] = matrix_for(tenant)
    ctx["code"] = ResolutionCode.objects.for_tenant(tenant).get(slug="solved-permanently")
    now = timezone.now()
    for start in range(0, n, BATCH):
        batch = [
            _incident(tenant, number, rng, ctx, open_share, now, rare)
            for number in range(start + 1, min(start + BATCH, n) + 1)
        ]
        with transaction.atomic():
            made = Incident.objects.bulk_create(batch)
            if events:
                IncidentEvent.objects.bulk_create(_events(tenant, made), batch_size=BATCH)
            Comment.objects.bulk_create(_comments(tenant, made, rng, rare_comment))
        print(f"  {tenant.slug}: {start + len(batch):,} / {n:,}", end="\r", flush=True)
    TenantCounter.objects.for_tenant(tenant).filter(name="incident").update(value=n)
    print()


def _clock(incident: Incident, policy: SlaPolicy, metric: str, now) -> SlaClock:
    """A clock as the services leave it, in wall-clock time (the bench needs the rows and their
    states, not calendar arithmetic): running until due, then breached; the response clock met
    once an agent took the incident; paused while on hold awaiting the caller."""
    target = policy.target_for(metric)
    started = incident.reported_at
    due = started + timedelta(seconds=target)
    first = min([p for p in policy.warn_percents if 0 < p < 100] or [100])
    clock = SlaClock(
        tenant_id=incident.tenant_id,
        incident=incident,
        metric=metric,
        policy=policy,
        calendar_id=policy.calendar_id,
        priority_slug=policy.priority.slug,
        target_seconds=target,
        warn_percents=policy.warn_percents,
        pause_on=policy.pause_on,
        started_at=started,
    )
    if metric == Metric.RESPONSE and incident.state not in ("reported", "escalated"):
        clock.state, clock.stopped_at = ClockState.MET, started + timedelta(minutes=10)
        clock.spent = timedelta(minutes=10)
    elif incident.state == "on_hold" and incident.hold_reason in policy.pause_on:
        clock.state, clock.spent = ClockState.PAUSED, timedelta(seconds=target // 2)
    else:
        clock.running_since, clock.due_at = started, due
        clock.warn_at = started + timedelta(seconds=target * first / 100)
        ahead = [[p, (started + timedelta(seconds=target * p / 100)).isoformat()]
                 for p in [*policy.warn_percents, 100]]  # fmt: skip
        clock.checkpoints = [c for c in ahead if c[1] > now.isoformat()]
        if due <= now:
            clock.state, clock.breached_at = ClockState.BREACHED, due
        else:
            clock.next_check_at = min(datetime.fromisoformat(c[1]) for c in clock.checkpoints)
    return clock


def add_clocks(tenant: Tenant) -> int:
    """Response and resolution clocks on every open incident (the desk's rows show them, and
    "Breaching soon" reads them); made once, kept with the tenant."""
    if SlaClock.objects.for_tenant(tenant).exists():
        return 0
    now = timezone.now()
    policies = {p.priority_id: p for p in sla_policies_for_tenant(tenant)}
    open_ = Incident.objects.for_tenant(tenant).filter(state__in=[s for s, _ in OPEN_STATES])
    made = 0
    for start in range(0, open_.count(), BATCH):
        batch = list(open_.order_by("id")[start : start + BATCH])
        clocks = [
            _clock(i, policies[i.priority_id], metric, now)
            for i in batch
            for metric in (Metric.RESPONSE, Metric.RESOLUTION)
        ]
        made += len(SlaClock.objects.bulk_create(clocks))
    return made


def tenant_for(slug: str, n: int, args: argparse.Namespace) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None and args.fresh:
        drop(tenant)
        tenant = None
    if tenant is not None:
        count = Incident.objects.for_tenant(tenant).count()
        if count != n:
            sys.exit(f"{slug} holds {count:,} incidents, not {n:,}: run again with --fresh.")
        print(f"  {slug}: reusing {count:,} incidents")
        if made := add_clocks(tenant):
            print(f"  {slug}: {made:,} SLA clocks on its open incidents")
        return tenant
    tenant = tenant_create(slug=slug, name=f"Bench {n:,}")
    started = time.perf_counter()
    fill(tenant, n, open_share=args.open_share, events=args.events, seed=n)
    print(f"  {slug}: {add_clocks(tenant):,} SLA clocks on its open incidents")
    print(f"  {slug}: filled in {time.perf_counter() - started:.0f} s")
    return tenant


def drop(tenant: Tenant) -> None:
    """Delete a bench tenant; its big tables first, in SQL (the ORM would load every row). Its
    audit records go with it, as the retention job's do (the log is otherwise append-only)."""
    from tenancy.audit import prune_allowed

    with transaction.atomic(), prune_allowed(), connection.cursor() as cursor:
        # Matrix cells PROTECT their levels, so they go before the tenant's cascade.
        tables = (
            "escalation_slaclock",
            "incidents_comment",
            "incidents_incidentevent",
            "incidents_incident",
            "incidents_prioritymatrixcell",
        )
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        User.objects.filter(memberships__tenant=tenant).delete()
        tenant.delete()


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
        f"agent in 2 of {GROUPS} groups"
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
                drop(tenant)
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
