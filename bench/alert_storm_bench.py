"""Alert storm (issue 18): 10,000 PagerDuty Events v2 triggers over 100 dedup keys from 16
concurrent senders against gunicorn on PostgreSQL, then the same storm through the generic
intake (POST /api/v1/alerts/, the same dedup service without the integration layer) as the
baseline, in one run.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/sd_bench_storm \\
        REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/alert_storm_bench.py \\
        [--alerts 10000] [--keys 100] [--senders 16] [--workers 4]

The database named in DATABASE_URL is dropped and re-created. Prints, per endpoint: alerts
sent, incidents created (goal: = keys), errors (any answer but the expected 2xx; goal: 0),
alerts/s, p50 and p95.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.api_bench import _manage, bench_env, prepare, serving  # noqa: E402

MAKE_INTEGRATION = """
from incidents.intake.services import integration_create
from tenancy.actors import Actor
from tenancy.models import Tenant
from tenancy import rls
with rls.bypass("bench set-up", routine=True):
    tenant = Tenant.objects.get(slug="acme")
    _, key = integration_create(actor=Actor.system(tenant, "bench"), kind="pagerduty_events",
                                name="storm")
print(key)
"""


def pagerduty_body(key: str, index: int, keys: int) -> tuple[str, str]:
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": f"storm-{index % keys}",
        "payload": {
            "summary": f"Storm alert {index % keys}",
            "source": "bench",
            "severity": "error",
        },
    }
    return "/api/v1/integrations/events/v2/enqueue", json.dumps(event)


def generic_body(index: int, keys: int) -> tuple[str, str]:
    alert = {"dedup_key": f"base-{index % keys}", "action": "trigger", "summary": "Storm alert"}
    return "/api/v1/alerts/", json.dumps(alert)


def storm(port: int, requests: list[tuple[str, str]], headers: dict, senders: int) -> dict:
    """Each sender takes every `senders`-th request, on its own keep-alive connection."""

    def send(offset: int) -> tuple[list[float], int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        times, errors = [], 0
        for path, body in requests[offset::senders]:
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                errors += response.status not in (200, 201, 202)
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            times.append(time.perf_counter() - start)
        return times, errors

    began = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        parts = list(pool.map(send, range(senders)))
    elapsed = time.perf_counter() - began
    times = sorted(t for p in parts for t in p[0])
    return {
        "alerts": len(times),
        "errors": sum(p[1] for p in parts),
        "rate": len(times) / elapsed,
        "p50": statistics.median(times) * 1000,
        "p95": times[int(len(times) * 0.95) - 1] * 1000,
    }


def incidents(env: dict) -> int:
    out = subprocess.run(
        ["psql", env["DATABASE_URL"], "-tAc", "SELECT count(*) FROM incidents_incident"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    env = {**bench_env(), "INTEGRATION_ALERTS_PER_MINUTE": "0"}
    api_key = prepare(env)
    routing_key = _manage("shell", "-c", MAKE_INTEGRATION, env=env).strip().splitlines()[-1]
    json_headers = {"Content-Type": "application/json"}
    rows = []
    with serving(env, args.workers) as port:
        before = incidents(env)
        events = [pagerduty_body(routing_key, i, args.keys) for i in range(args.alerts)]
        result = storm(port, events, json_headers, args.senders)
        rows.append(("PagerDuty Events v2 intake", result, incidents(env) - before))
        before = incidents(env)
        generic = [generic_body(i, args.keys) for i in range(args.alerts)]
        headers = {**json_headers, "Authorization": f"Bearer {api_key}"}
        result = storm(port, generic, headers, args.senders)
        rows.append(("generic /api/v1/alerts/", result, incidents(env) - before))
    print(
        f"{args.alerts} alerts, {args.keys} dedup keys, {args.senders} senders, "
        f"gunicorn -w {args.workers}"
    )
    heads = f"{'alerts':>8}{'incidents':>10}{'errors':>8}{'/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
    print(f"{'endpoint':<28}{heads}")
    for name, r, made in rows:
        print(
            f"{name:<28}{r['alerts']:>8}{made:>10}{r['errors']:>8}{r['rate']:>8.1f}"
            f"{r['p50']:>9.1f}{r['p95']:>9.1f}"
        )


if __name__ == "__main__":
    main()
