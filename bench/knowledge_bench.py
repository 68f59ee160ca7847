"""Knowledge search and portal suggestions at 1,000 and 100,000 articles in a tenant.

Fills two tenants of a throwaway database (`<name>_bench`, bench/dbsetup.py), `kb-small` with
--small published articles and `kb-big` with --big, then times the selectors the pages call
(one query each: knowledge.selectors.article_search for an agent and a requester, and
articles_suggested as the portal's report form asks while a title is typed), interleaving the
two tenants so a shared machine's noise falls on both alike. Prints median and p95 per case and
the ratio of the p95s; the goal (issue 15) is at most 1.5x. Exits 1 when a case misses it.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/sd .venv/bin/python \\
        bench/knowledge_bench.py [--small 1000] [--big 100000] [--rounds 60] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dbsetup  # noqa: E402  (bench/ is on the path: `python bench/knowledge_bench.py`)

TOPICS = (
    "vpn printer mail password laptop screen network wifi teams outlook calendar badge phone "
    "headset keyboard mouse monitor docking station licence excel word sharepoint drive backup "
    "restore certificate token account locked reset expired slow crash update install driver "
    "scanner toner paper jam tray queue share folder access permission group policy proxy "
    "browser chrome firefox cache cookie session timeout server database report invoice"
)
WORDS = TOPICS.split()
FILLER = [f"term{k}" for k in range(20_000)]  # a real vocabulary's long tail
RARE = "zeppelin"
CASES = {
    "agent search, common word": ("search", "agent", "printer"),
    "agent search, two words": ("search", "agent", "printer toner"),
    "agent search, rare word": ("search", "agent", RARE),
    "agent search, no match": ("search", "agent", "quokka"),
    "requester search, common word": ("search", "requester", "password"),
    "portal suggestion, typed title": ("suggest", "requester", "my laptop vpn certif"),
    "portal suggestion, rare word": ("suggest", "requester", f"the {RARE} is"),
}


def fill(slug: str, n: int) -> None:
    from incidents.models import Category
    from knowledge.models import Article, ArticleState, Audience
    from tenancy.models import Membership, Role, Tenant, User

    tenant, created = Tenant.objects.get_or_create(slug=slug, defaults={"name": slug})
    if not created and Article.objects.filter(tenant=tenant).count() == n:
        return
    Article.objects.filter(tenant=tenant).delete()
    for email, role in ((f"agent@{slug}.bench", Role.AGENT), (f"req@{slug}.bench", Role.REQUESTER)):
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": email})
        Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": role})
    category, _ = Category.objects.get_or_create(tenant=tenant, slug="it", defaults={"name": "IT"})
    rng = random.Random(slug)
    rare = set(rng.sample(range(n), 3))
    batch: list[Article] = []
    for i in range(n):
        title = " ".join(rng.choices(WORDS, k=4)).capitalize()
        words = rng.choices(WORDS, k=3) + rng.choices(FILLER, k=50)
        body = " ".join(words) + (f" {RARE}" if i in rare else "")
        batch.append(
            Article(
                tenant=tenant,
                title=title,
                body=body,
                category=category,
                audience=Audience.REQUESTERS if i % 4 else Audience.AGENTS,
                state=ArticleState.PUBLISHED if i % 10 else ArticleState.DRAFT,
            )
        )
        if len(batch) == 5000:
            Article.objects.bulk_create(batch)
            batch = []
    Article.objects.bulk_create(batch)
    dbsetup.sql("VACUUM ANALYZE knowledge_article")


def actors(slug: str):
    from tenancy.actors import Actor
    from tenancy.models import Membership

    found = {}
    for m in Membership.objects.select_related("tenant", "user").filter(tenant__slug=slug):
        found["agent" if m.role == "agent" else "requester"] = Actor.member(m)
    return found


def run(case: tuple[str, str, str], who) -> float:
    from knowledge.selectors import article_search, articles_suggested

    kind, role, text = case
    actor = who[role]
    start = time.perf_counter()
    if kind == "search":
        article_search(actor=actor, text=text)
    else:
        articles_suggested(tenant=actor.tenant, text=text)
    return (time.perf_counter() - start) * 1000


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    url, admin, name = dbsetup.bench_url(os.environ["DATABASE_URL"])
    if not args.keep:
        dbsetup.recreate(admin, name)
    dbsetup.setup_django(url)
    started = time.perf_counter()
    fill("kb-small", args.small)
    fill("kb-big", args.big)
    print(f"filled in {time.perf_counter() - started:.0f} s")
    sizes = {"small": actors("kb-small"), "big": actors("kb-big")}
    missed = []
    print(f"{'case':34} {'median 1k':>10} {'p95 1k':>8} {'median big':>10} {'p95 big':>8} ratio")
    for label, case in CASES.items():
        times: dict[str, list[float]] = {"small": [], "big": []}
        for _ in range(5):  # warm-up
            for who in sizes.values():
                run(case, who)
        for _ in range(args.rounds):
            for size, who in sizes.items():
                times[size].append(run(case, who))
        small, big = times["small"], times["big"]
        ratio = p95(big) / p95(small)
        print(
            f"{label:34} {statistics.median(small):10.2f} {p95(small):8.2f} "
            f"{statistics.median(big):10.2f} {p95(big):8.2f} {ratio:5.2f}x"
        )
        if ratio > 1.5:
            missed.append(label)
    if missed:
        print("over 1.5x:", ", ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
