"""Incident creation through the API under gunicorn on PostgreSQL at concurrency 16, next to a
bare DRF endpoint (same middleware, auth and rate limiter) that inserts one row, in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench_api \
        REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/api_bench.py [--seconds 20]

The database named in DATABASE_URL is dropped and re-created. Prints requests/s, p50, p95 and
errors for both endpoints and the ratio of their throughputs (goal: at least 25%).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(*args: str, env: dict) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def prepare(env: dict) -> str:
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = env["DATABASE_URL"].replace(url.path, "/postgres")
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    _manage("migrate", "-v0", env=env)
    _manage("load_demo", "--empty", env=env)  # the bare demo: the figures were taken on it
    subprocess.run(
        [
            "psql",
            env["DATABASE_URL"],
            "-qc",
            "CREATE TABLE bench_row (id bigserial primary key, tenant_id bigint, body text, "
            "created_at timestamptz default now())",
        ],
        check=True,
    )
    out = _manage("create_api_key", "--tenant", "acme", "--name", "bench", env=env)
    return out.strip().splitlines()[-1]


def _worker(args: tuple) -> tuple[list[float], int, float, float]:
    port, key, path, body, seconds, threads = args
    began = time.time()
    deadline = time.monotonic() + seconds

    def loop(_: int) -> tuple[list[float], int]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        times, errors = [], 0
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 201
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            times.append(time.perf_counter() - start)
            errors += not ok
        return times, errors

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(loop, range(threads)))
    times = [t for r in results for t in r[0]]
    return times, sum(r[1] for r in results), began, time.time()


def load(port: int, key: str, path: str, seconds: float, concurrency: int) -> dict:
    body = json.dumps(
        {
            "title": "Checkout times out",
            "impact": "high",
            "urgency": "medium",
            "category": "software",
        }
    )
    procs = 4
    per = [concurrency // procs + (i < concurrency % procs) for i in range(procs)]
    with Pool(procs) as pool:
        parts = pool.map(_worker, [(port, key, path, body, seconds, n) for n in per if n])
    return {  # from the first client's start to the last one's end: not the pool's start-up
        "elapsed": max(p[3] for p in parts) - min(p[2] for p in parts),
        "times": [t for p in parts for t in p[0]],
        "errors": sum(p[1] for p in parts),
    }


def summary(runs: list[dict]) -> dict:
    times = sorted(t for r in runs for t in r["times"])
    return {
        "requests": len(times),
        "rps": len(times) / sum(r["elapsed"] for r in runs),
        "p50_ms": statistics.median(times) * 1000,
        "p95_ms": times[int(len(times) * 0.95) - 1] * 1000,
        "errors": sum(r["errors"] for r in runs),
    }


def bench_env() -> dict:
    env = {
        **os.environ,
        "ROOT_URLCONF": "bench.bench_urls",
        "API_RATE_LIMIT_PER_MINUTE": "0",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
    }
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is dropped and re-created).")
    return env


@contextmanager
def serving(env: dict, workers: int) -> Iterator[int]:
    """gunicorn on a free port for the duration; yields the port."""
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "servicedesk.wsgi",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        _wait_up(port)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="turns of each endpoint")
    args = parser.parse_args()
    env = bench_env()
    key = prepare(env)
    with serving(env, args.workers) as port:
        load(port, key, "/bench/bare/", 3, args.concurrency)  # warm-up
        load(port, key, "/api/v1/incidents/", 3, args.concurrency)
        # Taken in turns, so that a change in the machine's speed during the run (a shared
        # machine's neighbours) weighs on both endpoints alike.
        bare_turns, create_turns = [], []
        for _ in range(args.rounds):
            part = args.seconds / args.rounds
            bare_turns.append(load(port, key, "/bench/bare/", part, args.concurrency))
            create_turns.append(load(port, key, "/api/v1/incidents/", part, args.concurrency))
        bare, create = summary(bare_turns), summary(create_turns)
    print(
        f"gunicorn {args.workers} sync workers, concurrency {args.concurrency}, "
        f"{args.seconds}s each in {args.rounds} turns, PostgreSQL"
    )
    print(f"{'endpoint':<28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for name, r in (("bare insert (baseline)", bare), ("POST /api/v1/incidents/", create)):
        print(f"{name:<28}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['errors']:>8}")
    print(f"ratio create/bare throughput: {create['rps'] / bare['rps']:.0%} (goal >= 25%)")


def _wait_up(port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
