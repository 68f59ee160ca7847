"""How long an admin's settings change waits while reports pour in, next to the same change on
an idle desk, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench_config \
        REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/config_bench.py [--seconds 20]

The database named in DATABASE_URL is dropped and re-created. gunicorn (4 sync workers) takes
incident creations through the API at concurrency 16; meanwhile this process saves an SLA
policy through its service (`sla_policy_save`, what the settings page and the API call) every
100 ms and times each save. A change waits for the reports in flight (they hold the tenant's
configuration shared), so it cannot be instant under load; the question is whether it waits
for those reports only, or for as long as reports keep arriving.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

from api_bench import ROOT, bench_env, load, prepare, serving, summary


def save_times(save, count: int, gap: float, until: float | None = None) -> list[float]:
    times: list[float] = []
    while len(times) < count and (until is None or time.monotonic() < until):
        start = time.perf_counter()
        save()
        times.append(time.perf_counter() - start)
        time.sleep(gap)
    return times


def figures(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[max(int(len(ms) * 0.95) - 1, 0)]
    return f"{len(ms):>6}{statistics.median(ms):>10.1f}{p95:>10.1f}{ms[-1]:>10.1f}"


def admin_save():
    """The demo admin's save of the high level's SLA policy, its response target flipped."""
    from escalation.models import SlaPolicy
    from escalation.services.config import sla_policy_save
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role

    admin = Membership.objects.select_related("tenant", "user").filter(
        tenant__slug="acme", role=Role.ADMIN, is_active=True
    )[0]
    actor = Actor.member(admin)
    policy = SlaPolicy.objects.for_tenant(actor.tenant).get(priority__slug="high")
    fields = ("calendar", "resolution_seconds", "warn_percents", "pause_on")
    values = {name: getattr(policy, name) for name in fields}

    def save() -> None:
        target = 3600 if policy.response_seconds != 3600 else 3660
        sla_policy_save(actor=actor, policy=policy, values={**values, "response_seconds": target})

    return save


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20, help="of report traffic")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    env = bench_env()
    key = prepare(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # Filling tenants is a system job; the requests measured set their own scope (tenancy/rls.py).
    os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")
    sys.path.insert(0, str(ROOT))  # this checkout's code, as the server runs it
    import django

    django.setup()
    save = admin_save()
    with serving(env, args.workers) as port:
        load(port, key, "/api/v1/incidents/", 3, args.concurrency)  # warm-up
        idle = save_times(save, 40, 0.05)
        traffic: dict = {}
        flow = threading.Thread(
            target=lambda: traffic.update(
                summary([load(port, key, "/api/v1/incidents/", args.seconds, args.concurrency)])
            )
        )
        flow.start()
        time.sleep(2)  # the clients are up and the workers busy
        busy = save_times(save, 10_000, 0.1, until=time.monotonic() + args.seconds - 4)
        flow.join()
    print(f"gunicorn {args.workers} sync workers, concurrency {args.concurrency}, PostgreSQL")
    print(
        f"report traffic: {traffic['rps']:.1f} creates/s, p95 {traffic['p95_ms']:.1f} ms, "
        f"{traffic['errors']} errors"
    )
    print(f"{'SLA policy save':<24}{'saves':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    print(f"{'idle desk (baseline)':<24}{figures(idle)}")
    print(f"{'under report traffic':<24}{figures(busy)}")
    ratio = statistics.median(busy) / statistics.median(idle)
    print(f"median under traffic / idle: {ratio:.1f}x")


if __name__ == "__main__":
    main()
