"""The desk under a step load on many real processes, all on loopback (bench/load/README.md).

Per topology (`--topology WxM`: W gunicorn web processes behind HAProxy, M copies of the
Procfile's `worker` and `timers` lines, one beat): a primary PostgreSQL cluster and a streaming
replica, PgBouncer (transaction pooling) in front of the primary, the broker (a private
redis-server, or `--broker amqp://...`), seeded tenants (bench/load/seed.py), then Locust
headless with a step load (bench/load/locustfile.py). Prints and saves, per endpoint class, the
request rate at which p95 first passes 500 ms, the error rate (must be 0: exit 1 otherwise), the
SLA alerts' lateness, and CPU per process group with the database's waits and the broker's
queue depth, to tell what saturates first. `--compare` runs 2x2 and 1x1 in turn and prints the
ratio.

    .venv/bin/python bench/load/run.py --compare            # the lead's final run (~14 min)
    .venv/bin/python bench/load/run.py --topology 1x1 --steps 4 --step-seconds 15   # a dev run

Every process started here is stopped at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import analyse, chart, write_summary  # noqa: E402
from sampler import Sampler  # noqa: E402

from tests.faults.harness import (  # noqa: E402
    FAULT_SETTINGS,
    CeleryProcesses,
    PgBouncer,
    PgCluster,
    RedisServer,
    child_env,
    die_with_parent,
    free_port,
    wait_for,
)

RESULTS = ROOT / "bench" / "results"
DATABASE = "sd_h_load"
HAPROXY = os.environ.get("HAPROXY", "/usr/sbin/haproxy")


def desk_env(
    primary: PgCluster,
    redis: RedisServer,
    database_url: str,
    replica_url: str,
    broker: str,
    workdir: Path,
) -> dict[str, str]:
    """The desk's processes' environment: harness.child_env's (REDIS_URL at `redis`, VAR_DIR in
    `workdir`, PYTHONPATH and the settings module), then as deployed but for the knobs below."""
    env = child_env(primary, redis, workdir)
    # child_env's FAST_PASSWORD_HASHER=1 stays: logging in is measured once per simulated
    # person; the production hasher would make the seed's thousands of people slow to create
    # and change nothing after log-in.
    # The fault tests' short timings (tasks killed after 6 s, a relay every second, ...) and
    # webhooks to loopback would make this another desk than the deployed one: back to this
    # process's environment, else the settings' defaults.
    for name in FAULT_SETTINGS:
        del env[name]
    env.update({name: os.environ[name] for name in FAULT_SETTINGS if name in os.environ})
    # Deployed, the web processes bypass no tenant wall by default (a worker's tasks, manage.py
    # and the seed name their own bypass).
    env.pop("DESK_RLS_DEFAULT", None)
    env.update(
        DATABASE_URL=database_url,  # PgBouncer, or the primary itself (child_env's is "desk")
        PGBOUNCER="1",
        DATABASE_REPLICA_URLS=replica_url,  # dashboards and API lists read the standby
        CELERY_BROKER_URL=broker,  # the run's redis-server unless --broker names another
        LOG_LEVEL="WARNING",
        # Not child_env's locmem, which keeps every mail in its process's memory for the run.
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        # The API's per-key limit (600 a minute) would refuse the integrations long before the
        # desk saturates: this measures the desk, not the limit.
        API_RATE_LIMIT_PER_MINUTE="1000000",
        INTEGRATION_ALERTS_PER_MINUTE="1000000",
        # Second-scale SLA targets want a sweep every second (the default is 15 s), as in
        # bench/storm_bench.py: the lateness then shows the load, not the sweep's period.
        SLA_SWEEP_INTERVAL_SECONDS="1",
    )
    return env


class Topology:
    """Everything one run needs, started in order and stopped in reverse by `close()`."""

    def __init__(self, webs: int, workers: int, args: argparse.Namespace) -> None:
        self.webs, self.workers, self.args = webs, workers, args
        self.workdir = Path(tempfile.mkdtemp(prefix="sd-load-"))
        self.stack = contextlib.ExitStack()
        self.pids: dict[str, list[int]] = {}

    def start(self) -> None:
        stack = self.stack
        stack.callback(shutil.rmtree, self.workdir, True)
        self.primary = PgCluster()
        stack.callback(self.primary.close)
        self.primary.start()
        self.primary.create_database(DATABASE)
        step("primary", self.primary.port)
        self.redis = RedisServer(self.workdir)
        stack.callback(self.redis.stop)
        self.redis.start()
        broker = self.args.broker or self.redis.url(0)  # REDIS_URL, the broker until now
        direct = self.primary.url(DATABASE)
        env = desk_env(self.primary, self.redis, direct, "", broker, self.workdir)
        env.pop("PGBOUNCER")
        self._run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        step("migrated")
        seed = [sys.executable, "bench/load/seed.py", "--tenants", str(self.args.tenants)]
        seed += ["--incidents", str(self.args.incidents)]
        self.plan_path = self.workdir / "plan.json"
        self.plan_path.write_text(self._run(seed, env).strip().splitlines()[-1])
        step("seeded", f"{self.args.tenants} tenants x {self.args.incidents} incidents")
        self.replica = self.primary.standby()
        stack.callback(self.replica.close)
        step("replica", self.replica.port)
        pooled = self._pgbouncer()
        replica = self.replica.url(DATABASE)
        env = desk_env(self.primary, self.redis, pooled, replica, broker, self.workdir)
        self._desk(env)
        self._haproxy()

    def _run(self, cmd: list[str], env: dict[str, str]) -> str:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[1:3])} failed:\n{done.stderr[-4000:]}")
        return done.stdout

    def _pgbouncer(self) -> str:
        pooler = PgBouncer(self.primary.port, DATABASE, prefix="sd-load-pgbouncer-")
        self.stack.callback(pooler.stop)
        url = pooler.start()
        self.pids["pgbouncer"] = [pooler.pid]
        step("pgbouncer", url)
        return url

    def _desk(self, env: dict[str, str]) -> None:
        self.procs = CeleryProcesses(env, self.workdir)
        self.stack.callback(self.procs.stop_all)
        self.web_ports = [free_port() for _ in range(self.webs)]
        webs = [self.procs.web(p, name=f"web{n}", wait=False) for n, p in enumerate(self.web_ports)]
        workers = [self.procs.beat(wait=False)]
        for n in range(self.workers):
            workers.append(self.procs.procfile("worker", name=f"worker{n}", wait=False))
            workers.append(self.procs.procfile("timers", name=f"timers{n}", wait=False))
        self.procs.wait_ready(*webs, *workers)
        self.pids["web"] = [p.popen.pid for p in webs]
        self.pids["workers"] = [p.popen.pid for p in workers]
        step("desk", f"{self.webs} web, {self.workers} x (worker + timers), beat")

    def _haproxy(self) -> None:
        self.port = free_port()
        servers = "\n".join(
            f"  server web{n} 127.0.0.1:{port} check inter 2s"
            for n, port in enumerate(self.web_ports)
        )
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, servers=servers))
        log = (self.workdir / "haproxy.log").open("ab")
        proc = subprocess.Popen(
            [HAPROXY, "-f", str(config), "-db"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        self.stack.callback(_kill_group, proc)
        self.pids["haproxy"] = [proc.pid]
        wait_for(lambda: _healthy(self.url + "/healthz"), 30, "HAProxy to pass /healthz")
        step("haproxy", self.url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def postgres_pids(self) -> dict[str, list[int]]:
        def postmaster(cluster: PgCluster) -> list[int]:
            return [int((cluster.data / "postmaster.pid").read_text().split()[0])]

        return {"postgres": postmaster(self.primary), "replica": postmaster(self.replica)}

    def close(self) -> None:
        self.stack.close()


HAPROXY_CONFIG = """\
global
  maxconn 4000
  log stdout format raw local0
defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  option forwardfor
frontend desk
  bind 127.0.0.1:{port}
  default_backend web
backend web
  balance leastconn
  option httpchk
  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1
{servers}
"""


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _kill_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def step(what: str, detail: object = "") -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {what} {detail}", flush=True)


def run_locust(top: Topology, out: Path, args: argparse.Namespace) -> tuple[Path, float, float]:
    samples = out / "samples.csv"
    env = {
        **os.environ,
        "LOAD_PLAN": str(top.plan_path),
        "LOAD_SAMPLES": str(samples),
        "LOAD_STEP_USERS": str(args.step_users),
        "LOAD_STEP_SECONDS": str(args.step_seconds),
        "LOAD_STEPS": str(args.steps),
    }
    locust = Path(sys.executable).parent / "locust"
    cmd = [str(locust), "-f", str(Path(__file__).parent / "locustfile.py"), "--headless"]
    cmd += ["--host", top.url, "--csv", str(out / "locust"), "--csv-full-history"]
    cmd += ["--html", str(out / "locust.html"), "--only-summary", "--loglevel", "WARNING"]
    with (out / "locust.log").open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        top.stack.callback(_kill_group, proc)
        top.pids["locust"] = [proc.pid]
        sampler = Sampler(top, out / "resources.csv")
        started = time.time()
        sampler.start()
        try:
            proc.wait(timeout=args.steps * args.step_seconds + 120)
        finally:
            sampler.stop()
    return samples, started, time.time()


def one_topology(name: str, args: argparse.Namespace) -> dict:
    webs, workers = (int(n) for n in name.split("x"))
    out = RESULTS / f"load-{name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"\nTopology {name}: {webs} web, {workers} worker", flush=True)
    top = Topology(webs, workers, args)
    try:
        top.start()
        samples, started, ended = run_locust(top, out, args)
        step("load done; reading the SLA alerts")
        time.sleep(args.settle)
        figures = analyse(samples, out / "resources.csv", top.primary, started, ended, args)
    finally:
        # The processes' logs, kept for a look at any error before the temp dir goes.
        (out / "logs").mkdir(exist_ok=True)
        for log in top.workdir.glob("*.log"):
            shutil.copy(log, out / "logs" / log.name)
        top.close()
        step("stopped every process")
    figures["topology"] = name
    chart(figures, out / "chart.png")
    write_summary(figures, out)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", default="2x2", help="WEBxWORKERS, e.g. 2x2 or 1x1")
    parser.add_argument("--compare", action="store_true", help="2x2, then 1x1, and the ratio")
    parser.add_argument("--broker", default="", help="amqp://... (default: a private Redis)")
    parser.add_argument("--step-users", type=int, default=20)
    parser.add_argument("--step-seconds", type=float, default=30)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--incidents", type=int, default=2000, help="history per tenant")
    parser.add_argument("--settle", type=float, default=10, help="seconds before lateness")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    names = ["2x2", "1x1"] if args.compare else [args.topology]
    results = [one_topology(name, args) for name in names]
    if len(results) == 2:
        from report import compare

        compare(results[0], results[1], RESULTS / "load-compare.md")
    errors = sum(r["errors"]["failures"] for r in results)
    if errors:
        print(f"\nFAILED: {errors} requests failed (the error rate must be 0)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
