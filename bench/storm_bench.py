"""Storm benchmark (issue 16): how late SLA alerts are when 2,000 incidents arrive in a burst.

One tenant (an admin, a webhook endpoint taking sla.warning and sla.breached, mail to a local
SMTP server), targets of 5 s (response) and 10 s (resolution) with a warning at 50%: four alerts
per incident, 8,000 in all, each delivered by webhook, email and in-app. The incidents are
reported by 4 threads in one process (as web workers would), while beat and the Celery workers
run as the Procfile starts them (`worker`: deliveries; `timers`: the sweep, the notifier and the
relay) on a database of their own (`<name>_bench` next to DATABASE_URL's) and a private
redis-server. Then it prints, per alert, the seconds from due to written (its alert row),
notified (its outbox rows written) and delivered (the last of its rows sent): p50, p95, max,
against the goal: written within 30 s, delivered within 60 s at p95.

--baseline runs the same storm again (same code, a second tenant) with the process layout the
issue measured: one worker, threads pool x2, taking every queue, timers and deliveries alike.

Usage:
    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/h8 \\
        .venv/bin/python bench/storm_bench.py [--incidents 2000] [--baseline] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from dbsetup import bench_url, recreate  # noqa: E402

from tests.escalation.smtp_sink import start_sink  # noqa: E402
from tests.faults.harness import CeleryProcesses, Desk, RedisServer, wait_for  # noqa: E402
from tests.faults.sink import WebhookSink  # noqa: E402
from tests.faults.storm import Lateness, lateness  # noqa: E402

GOAL_WRITTEN, GOAL_DELIVERED_P95 = 30.0, 60.0
PLAN = {"response": 5, "resolution": 10, "warn": 50}


class Database:
    """What tests.faults.storm.lateness reads through: .query(sql, params)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.url)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()


def environment(url: str, redis_url: str, workdir: Path, smtp) -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "SQLITE_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        VAR_DIR=str(workdir / "var"),
        FAST_PASSWORD_HASHER="1",
        LOG_LEVEL="INFO",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=smtp.host,
        EMAIL_PORT=str(smtp.port),
        WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1",  # the sinks listen on this machine
        # Second-scale targets want a sweep every second (the default is 15 s).
        SLA_SWEEP_INTERVAL_SECONDS="1",
    )
    return env


def storm(desk: Desk, db: Database, sink: WebhookSink, count: int, timeout: float) -> Lateness:
    slug = f"storm-{uuid.uuid4().hex[:8]}"
    events = "sla.warning,sla.breached"
    desk.driver("setup", "--slug", slug, "--url", sink.url("/hook"), "--events", events)
    desk.driver(
        *("sla", "--slug", slug, "--response", str(PLAN["response"])),
        *("--resolution", str(PLAN["resolution"]), "--warn", str(PLAN["warn"])),
        "--levels",  # one escalation level a day away: a long run measures the clocks alone
        "86400",
    )
    started = time.monotonic()
    desk.driver("report", "--slug", slug, "--count", str(count), "--category", "outage",
                "--threads", "4")  # fmt: skip
    print(f"  reported {count} incidents in {time.monotonic() - started:.1f} s", flush=True)

    def settled() -> bool:
        time.sleep(1)
        rows = db.query(
            "SELECT (SELECT count(*) FROM escalation_slaalert a WHERE a.tenant_id = t.id "
            "AND a.clock_id IS NOT NULL), (SELECT count(*) FROM escalation_notification n "
            "WHERE n.tenant_id = t.id AND n.status <> 'sent') FROM tenancy_tenant t "
            "WHERE t.slug = %s",
            (slug,),
        )
        written, unsent = rows[0]
        return written == 4 * count and unsent == 0

    try:
        wait_for(settled, timeout, "every alert delivered")
    except AssertionError:
        print(f"  NOT SETTLED after {timeout:.0f} s; figures so far", flush=True)
    print(f"  settled {time.monotonic() - started:.1f} s after the first report", flush=True)
    return lateness(db, [slug])


def report(name: str, late: Lateness) -> bool:
    print(f"\n{name}: {len(late.written)} alerts, {late.undelivered} not delivered")
    for line in late.lines():
        print("  " + line)
    written_max = max(late.written) if late.written else float("inf")
    p95 = late.summary(late.delivered)[1] if late.delivered else float("inf")
    met = written_max <= GOAL_WRITTEN and p95 <= GOAL_DELIVERED_P95 and not late.undelivered
    print(
        f"  goal: written <= {GOAL_WRITTEN:.0f} s (max {written_max:.1f}), delivered p95 <= "
        f"{GOAL_DELIVERED_P95:.0f} s (p95 {p95:.1f}): {'met' if met else 'NOT met'}"
    )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--baseline", action="store_true", help="also the issue's layout")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("storm_bench needs DATABASE_URL=postgres://...")
    url, admin_url, name = bench_url(os.environ["DATABASE_URL"])
    recreate(admin_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="storm-bench-"))
    redis_server = RedisServer(workdir)
    redis_server.start()
    smtp, controller = start_sink()
    results = []
    try:
        with WebhookSink() as sink:
            env = environment(url, redis_server.url(), workdir, smtp)
            desk = Desk(env, workdir)
            desk.manage("migrate", "--noinput", "-v", "0")
            db = Database(url)

            print(f"Storm: {args.incidents} incidents, 4 alerts each; worker and timers as the "
                  "Procfile starts them", flush=True)  # fmt: skip
            procs = CeleryProcesses(env, workdir / "layout")
            procs.dir.mkdir()
            procs.start_as_procfile()
            results.append(("Procfile (worker + timers)", storm(desk, db, sink, args.incidents,
                                                                 args.timeout)))  # fmt: skip
            procs.stop_all()

            if args.baseline:
                redis_server.client().flushall()
                print("\nBaseline: one worker, threads x2, every queue (the issue's layout)",
                      flush=True)  # fmt: skip
                procs = CeleryProcesses(env, workdir / "baseline")
                procs.dir.mkdir()
                procs.beat(wait=False)
                worker = procs.worker("old", concurrency=2, wait=False, pool="threads")
                procs.wait_ready(worker, *procs.procs[:1])
                results.append(("baseline (threads x2, one queue)",
                                storm(desk, db, sink, args.incidents, args.timeout)))  # fmt: skip
                procs.stop_all()
            desk.close()
    finally:
        smtp.release()
        controller.stop()
        redis_server.stop()
        if not args.keep:
            recreate(admin_url, name, drop_only=True)
    met = [report(label, late) for label, late in results]
    print("\nTimings on a shared machine are noisy; compare runs of the same machine.")
    return 0 if met[0] else 1


if __name__ == "__main__":
    sys.exit(main())
