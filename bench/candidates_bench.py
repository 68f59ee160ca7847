"""The candidate-problems page at 200,000 incidents in a tenant: under 300 ms?

Fills two tenants of the database DATABASE_URL names (kept between runs; --fresh drops and
refills the whole database, so give the bench a database of its own):
`cand-big` with --n incidents (default 200,000; --recent of them, default 20,000, reported in
the last 30 days) and `cand-small` with 1,000 (100 recent). Recent titles repeat: 18 recurring
faults in a few categories, each worded several ways (word order, typos, a site or ticket
number), among unique noise; some recent incidents are already linked to a problem, cancelled
or children of a major incident (the page must skip those). Then renders the candidates page
through Django's test client as a manager of each tenant, interleaved with the big tenant's
All open queue (the baseline: a page the desk already keeps fast), and prints the median and p95
of each, the ratios, and whether the big tenant's page meets 300 ms at p95. Exits 1 if not.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/svc_bench_cand \\
        .venv/bin/python bench/candidates_bench.py [--n 200000] [--recent 20000] [--rounds 40]

See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dbsetup  # noqa: E402  (bench/ is on the path: `python bench/candidates_bench.py`)

GOAL_MS = 300.0
BATCH = 5_000
CATEGORIES = 12
# Recurring faults: (category index, wordings). Several wordings of one fault are what trigram
# similarity has to bring together; numbers are added to some titles as people type them.
FAULTS = [
    (0, ["VPN drops every hour", "VPN drops every hour again", "vpn dropping every hour"]),
    (0, ["Wifi on floor 3 keeps disconnecting", "wifi floor 3 disconnects", "WiFi disconnecting"]),
    (1, ["Outlook crashes when opening attachments", "outlook crash opening attachment"]),
    (1, ["Mailbox full, cannot send mail", "mailbox is full cannot send", "Mailbox full"]),
    (2, ["Printer on 2nd floor jams", "printer jammed 2nd floor", "Printer jams on floor 2"]),
    (2, ["Toner low warning on HP printer", "HP printer toner low", "toner low warning"]),
    (3, ["Password reset link expired", "password reset link has expired", "reset link expired"]),
    (3, ["Account locked after password change", "account locked out after pw change"]),
    (4, ["Teams calls drop after 10 minutes", "teams call dropped after ten minutes"]),
    (4, ["Teams meeting audio echo", "echo in teams meeting audio", "Teams audio echo"]),
    (5, ["Laptop does not wake from sleep", "laptop won't wake from sleep", "laptop not waking"]),
    (5, ["Docking station monitors flicker", "monitor flickering on docking station"]),
    (6, ["SAP login times out", "SAP login timeout", "sap log in timing out"]),
    (6, ["Invoice report export fails", "invoice report export failed", "export of invoices"]),
    (7, ["Badge reader at main entrance rejects badge", "badge rejected at main entrance"]),
    (8, ["Shared drive S: not mapped", "S: drive not mapped after login", "shared drive missing"]),
    (
        9,
        [
            "Certificate warning on intranet",
            "intranet certificate warning",
            "cert warning intranet",
        ],
    ),
    (10, ["Backup job failed overnight", "overnight backup job failed", "backup failed"]),
]
VOCABULARY = (  # noqa: SIM905 (a sentence reads better than a column of quoted words)
    "request new access software install update licence phone headset keyboard mouse screen "
    "desk chair room booking calendar invite group mailbox distribution list folder share "
    "permission form portal order hardware replace broken cable adapter charger battery "
    "slow error message window freeze restart question how change address name title report "
    "dashboard chart number missing wrong duplicate delete restore file version sync mobile "
    "tablet app store token code sms approval manager expense travel visa contract vendor"
).split()


def _noise(rng: random.Random) -> str:
    """A one-off title: few of them resemble each other, as in a real desk's long tail."""
    words = rng.sample(VOCABULARY, rng.randint(3, 6))
    if rng.random() < 0.5:
        words.append(f"#{rng.randint(100, 99_999)}")
    return " ".join(words).capitalize()


def _fault_title(rng: random.Random, wordings: list[str]) -> str:
    title = rng.choice(wordings)
    roll = rng.random()
    if roll < 0.2:
        title += f" (site {rng.randint(1, 40)})"
    elif roll < 0.3:
        title = title.replace("e", "", 1)  # a typo
    return title


def _people(tenant, slug: str):
    from incidents.models import Category
    from tenancy.models import Membership, Role, User

    manager = User.objects.create_user(f"manager@{slug}.bench", full_name="Bench Manager")
    Membership.objects.create(tenant=tenant, user=manager, role=Role.MANAGER)
    requesters = []
    for r in range(50):
        user = User.objects.create_user(f"user{r}@{slug}.bench", full_name=f"User {r}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
        requesters.append(user)
    categories = [
        Category.objects.create(tenant=tenant, name=f"Category {c}", slug=f"category-{c}")
        for c in range(CATEGORIES)
    ]
    return manager, requesters, categories


def _row(tenant, number, reported_at, recent, rng, ctx):
    from incidents.models import Incident

    categories, requesters, matrix = ctx["categories"], ctx["requesters"], ctx["matrix"]
    if rng.random() < 0.35:
        index, wordings = rng.choice(FAULTS)
        category, title = categories[index], _fault_title(rng, wordings)
    else:
        category, title = rng.choice(categories), _noise(rng)
    roll = rng.random()
    if recent:
        state = "cancelled" if roll < 0.03 else "closed" if roll < 0.5 else "diagnosing"
    else:
        state = "cancelled" if roll < 0.05 else "closed"
    impact, urgency = rng.choice(["high", "medium", "low"]), rng.choice(["high", "medium", "low"])
    level = matrix[impact][urgency]
    closed = state == "closed"
    return Incident(
        tenant=tenant,
        number=number,
        state=state,
        title=title,
        impact=impact,
        urgency=urgency,
        priority=level,
        priority_rank=level.rank,
        reporter=rng.choice(requesters),
        category=category,
        affected_count=rng.choice([1, 1, 1, 2, 5]),
        reported_at=reported_at,
        updated_at=reported_at + timedelta(minutes=30),
        resolution_code=ctx["code"] if closed else None,
        resolution_notes="Fixed." if closed else "",
    )


def fill(slug: str, n: int, recent: int) -> None:
    """n incidents, numbered in the order reported; `recent` of them in the last 30 days."""
    from django.db import transaction
    from django.utils import timezone

    from incidents.models import Incident, ResolutionCode
    from incidents.services.priority import matrix_for
    from tenancy.models import TenantCounter
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=slug, name=f"Candidates {n:,}")
    manager, requesters, categories = _people(tenant, slug)
    ctx = {
        "categories": categories,
        "requesters": requesters,
        "matrix": matrix_for(tenant),
        "code": ResolutionCode.objects.for_tenant(tenant).get(slug="solved-permanently"),
    }
    rng, now = random.Random(slug), timezone.now()
    old = sorted(rng.uniform(31, 3 * 365) for _ in range(n - recent))
    new = sorted(rng.uniform(0, 29.9) for _ in range(recent))
    ages = [*reversed(old), *reversed(new)]  # oldest first: numbers grow with time
    for start in range(0, n, BATCH):
        batch = [
            _row(tenant, k + 1, now - timedelta(days=ages[k]), k >= n - recent, rng, ctx)
            for k in range(start, min(start + BATCH, n))
        ]
        with transaction.atomic():
            Incident.objects.bulk_create(batch)
        print(f"  {slug}: {start + len(batch):,} / {n:,}", end="\r", flush=True)
    print()
    TenantCounter.objects.for_tenant(tenant).filter(name="incident").update(value=n)
    _already_handled(tenant, manager, n - recent, rng)


def _already_handled(tenant, manager, first_recent: int, rng: random.Random) -> None:
    """Recent incidents the page must skip: those of one fault linked to a problem (as the desk
    does it after a first click), and some children of a major incident."""
    from incidents.models import Incident
    from problems.models import ProblemLink
    from problems.services import problem_log
    from tenancy.actors import Actor
    from tenancy.models import Membership

    recent = Incident.objects.for_tenant(tenant).filter(number__gt=first_recent)
    membership = Membership.objects.select_related("tenant", "user").get(
        tenant=tenant, user=manager
    )
    problem = problem_log(actor=Actor.member(membership), title="VPN concentrator drops tunnels")
    vpn = list(recent.filter(title__istartswith="vpn").values_list("id", flat=True))
    ProblemLink.objects.bulk_create(
        ProblemLink(tenant=tenant, problem=problem, incident_id=pk) for pk in vpn
    )
    ids = list(recent.exclude(id__in=vpn).values_list("id", flat=True))
    major = rng.choice(ids)
    children = [pk for pk in rng.sample(ids, max(1, len(ids) // 100)) if pk != major]
    Incident.objects.filter(id__in=children).update(parent_id=major)


def tenant_for(slug: str, n: int, recent: int):
    from tenancy.models import Tenant

    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        started = time.perf_counter()
        fill(slug, n, recent)
        print(f"  {slug}: filled in {time.perf_counter() - started:.0f} s")
        tenant = Tenant.objects.get(slug=slug)
    return tenant


def recreate(url: str) -> None:
    """--fresh: the whole database again (a tenant's SLA rows protect it from a delete)."""
    parsed = urlparse(url)
    admin = urlunparse(parsed._replace(path="/postgres"))
    dbsetup.recreate(admin, parsed.path.lstrip("/"))


# --- measuring --------------------------------------------------------------------------------
def _stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def measure(tenants: dict, rounds: int, warmup: int) -> dict[str, list[float]]:
    from django.test import Client

    from tenancy.models import User

    pages = {}
    for size, tenant in tenants.items():
        client = Client()
        client.force_login(User.objects.get(email=f"manager@{tenant.slug}.bench"))
        pages[f"candidates, {size}"] = (client, f"/t/{tenant.slug}/problems/candidates/")
        if size == "big":
            pages["queue All open, big"] = (client, f"/t/{tenant.slug}/desk/?queue=open")
    timings: dict[str, list[float]] = {name: [] for name in pages}
    for round_ in range(warmup + rounds):
        for name, (client, url) in pages.items():  # interleaved: machine noise hits all alike
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            assert response.status_code == 200, (url, response.status_code)
            if round_ >= warmup:
                timings[name].append(elapsed)
    return timings


def clusters_shown(tenant) -> str:
    from problems.candidates import problem_candidates

    found = problem_candidates(tenant=tenant)
    top = ", ".join(f"{c.count} x {c.title!r}" for c in found.clusters[:3])
    cut = f" (the window cut at {found.cut_at:%d %b %H:%M})" if found.cut_at else ""
    return f"{len(found.clusters)} clusters from {found.read:,} incidents read{cut}; biggest: {top}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200_000, help="incidents in the big tenant")
    parser.add_argument("--recent", type=int, default=20_000, help="of them in the last 30 days")
    parser.add_argument("--rounds", type=int, default=40, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="drop and refill the database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (see bench/README.md).")
    if args.fresh:
        recreate(url)
    dbsetup.setup_django(url)
    print("Filling (kept between runs):")
    tenants = {
        "big": tenant_for("cand-big", args.n, args.recent),
        "small": tenant_for("cand-small", 1_000, 100),
    }
    dbsetup.sql("VACUUM ANALYZE incidents_incident")
    dbsetup.sql("VACUUM ANALYZE problems_problemlink")
    for size, tenant in tenants.items():
        print(f"  {size}: {clusters_shown(tenant)}")
    timings = measure(tenants, args.rounds, args.warmup)
    print(f"\nServer time (ms), Django test client, {args.rounds} rounds after {args.warmup}")
    print(f"{'page':<24}{'median':>10}{'p95':>10}")
    figures = {name: _stats(values) for name, values in timings.items()}
    for name, (median, p95) in figures.items():
        print(f"{name:<24}{median:>10.1f}{p95:>10.1f}")
    big = figures["candidates, big"][1]
    small, queue = figures["candidates, small"][1], figures["queue All open, big"][1]
    print(f"\np95 ratio, candidates big / small:          {big / small:.2f}x")
    print(f"p95 ratio, candidates big / queue All open: {big / queue:.2f}x")
    verdict = "met" if big <= GOAL_MS else "NOT met"
    print(f"Goal: candidates page at {args.n:,} incidents, p95 <= {GOAL_MS:.0f} ms: {verdict}")
    return 0 if big <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
