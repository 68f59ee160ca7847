"""Throwaway services for fault-injection tests: a PostgreSQL cluster, a redis-server, and real
Celery worker and beat processes pointed at them. Killing or restarting any of them never
touches the database and Redis the rest of the suite uses. See tests/faults/README.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import redis

log = logging.getLogger("tests.faults")  # shown by pytest when a test fails: what took how long
ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


_LIBC = ctypes.CDLL(None)  # loaded here: the code between fork and exec must stay trivial
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """preexec_fn (Linux): if pytest itself is killed, the child is killed too instead of being
    left running against a cluster that is gone."""
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    start = time.monotonic()
    while time.monotonic() < start + timeout:
        if predicate():
            log.info("%.1fs until %s", time.monotonic() - start, what)
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def procfile_command(name: str) -> str:
    """The command of the Procfile's `name:` line, as honcho would run it with sh."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {name}: line")


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root; as root we switch to the postgres OS user for every pg tool.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PgCluster:
    """initdb + pg_ctl on a free port, data in a temp dir owned by postgres, removed at close."""

    def __init__(self, initdb: bool = True) -> None:
        # Set when the desk's processes reach this cluster through PgBouncer (CI's PgBouncer
        # leg): then the cluster is "back" once a query through the pooler answers, which is
        # up to server_login_retry (1 s) after PostgreSQL itself.
        self.pooler_url: str | None = None
        # Not under pytest's tmp_path: that is private to root and postgres could not enter it.
        self.dir = Path(tempfile.mkdtemp(prefix="sd-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        if not initdb:
            return
        self._pg(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def _pg(self, tool: str, *args: str) -> None:
        start = time.monotonic()
        cmd = _as_postgres([str(PG_BIN / tool), *args])
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:  # say why: a bare CalledProcessError hides the tool's words
            raise AssertionError(f"{tool} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        log.info("%s %s took %.1fs", tool, args[-1], time.monotonic() - start)

    def start(self) -> None:
        # fsync off is safe here: an immediate stop is a crash of PostgreSQL, not of the OS, so
        # the WAL it wrote is still there to replay. synchronous_commit must stay on: with it off
        # an immediate stop loses the last commits, which no real deployment would accept.
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        self._pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        pooler = self.pooler_url
        if pooler:
            wait_for(lambda: answers(pooler), 15, "PgBouncer to reach the restarted cluster")

    def standby(self) -> PgCluster:
        """A streaming replica of this (running) cluster on a port of its own, made as an
        operator would: `pg_basebackup -R` (which writes standby.signal and primary_conninfo),
        then started. initdb's trust rules already admit replication from 127.0.0.1."""
        replica = PgCluster(initdb=False)
        replica._pg(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-D",
            str(replica.data),
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",  # else it waits for the next timed checkpoint, minutes away
            "--no-sync",
        )
        replica.start()
        return replica

    def replay_lag_seconds(self) -> float | None:
        """On a standby: seconds since the last replayed commit (None before any)."""
        rows = self.query(
            "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())", (), "postgres"
        )
        return None if rows[0][0] is None else float(rows[0][0])

    def stop(self, mode: str = "fast") -> None:
        """mode "immediate" drops every connection at once, like a crash."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def url(self, database: str = "desk") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        conn = psycopg2.connect(self.url("postgres"))
        try:
            conn.autocommit = True  # CREATE DATABASE refuses to run inside a transaction
            conn.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def query(self, sql: str, params: tuple = (), database: str = "desk") -> list[tuple]:
        conn = psycopg2.connect(self.url(database), connect_timeout=3)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self, database: str = "desk") -> Iterator[psycopg2.extensions.cursor]:
        """An open transaction of the test's own, rolled back at the end: what it writes holds
        row and index locks that the desk's processes wait for meanwhile."""
        conn = psycopg2.connect(self.url(database), connect_timeout=3)
        try:
            with conn.cursor() as cursor:
                yield cursor
        finally:
            with contextlib.suppress(psycopg2.Error):  # the cluster may be down by now
                conn.rollback()
            conn.close()

    def lock_waiters(self, query_like: str) -> int:
        """Backends blocked on a lock while running a statement that contains `query_like`."""
        rows = self.query(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE %s",
            (f"%{query_like}%",),
        )
        return rows[0][0]

    def close(self) -> None:
        with contextlib.suppress(AssertionError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def answers(url: str) -> bool:
    """A query at `url` (PostgreSQL, or PgBouncer in front of it) answers."""
    try:
        conn = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError:
        return False
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except psycopg2.OperationalError:
        return False
    finally:
        conn.close()


class PgBouncer:
    """CI's throwaway PgBouncer (.ci/pgbouncer: transaction pooling on a free port of its own
    choosing, pool PGBOUNCER_POOL_SIZE or 20) in front of the cluster at `upstream_port` on
    loopback. `start()` returns the URL of `database` through it once a query there answers;
    `stop()` stops it and removes its directory, also after a failed or no start."""

    SCRIPT = ROOT / ".ci" / "pgbouncer"

    def __init__(self, upstream_port: int, database: str, prefix: str = "sd-pgbouncer-") -> None:
        # A temp dir of its own, not pytest's tmp_path nor a caller's: as root .ci/pgbouncer
        # hands it to the postgres user, who cannot enter those.
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.database = database
        self.env = {**os.environ, "PGBOUNCER_UPSTREAM_PORT": str(upstream_port)}

    def start(self) -> str:
        cmd = [str(self.SCRIPT), "start", str(self.dir), self.database]
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:  # say why: the script prints PgBouncer's log on stderr
            raise AssertionError(f"PgBouncer did not start ({done.returncode}):\n{done.stderr}")
        url = done.stdout.strip()
        # The script waits for the port to accept; the first query also proves the login.
        wait_for(lambda: answers(url), 15, "PgBouncer to answer a query")
        return url

    @property
    def pid(self) -> int:
        return int((self.dir / "pgbouncer.pid").read_text())

    def stop(self) -> None:
        cmd = [str(self.SCRIPT), "stop", str(self.dir)]
        subprocess.run(cmd, env=self.env, timeout=60, check=False)


class RedisServer:
    """redis-server on a free port without persistence: a restart loses every queued message."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        options = f"--port {self.port} --bind 127.0.0.1 --appendonly no --dir {self.dir}"
        self.proc = subprocess.Popen(
            ["redis-server", *options.split(), "--save", "", "--logfile", str(self.dir / "r.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        wait_for(self._answers, 10, "redis-server to answer PING")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """SIGKILL: whatever was queued is gone, as after a crash of an unpersisted Redis."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, socket_connect_timeout=2)


class Proc:
    """A child process in its own process group, with its output in a log file."""

    def __init__(
        self, name: str, cmd: list[str], env: dict[str, str], workdir: Path, ready_line: str
    ) -> None:
        self.name = name
        self.ready_line = ready_line
        self.log = workdir / f"{name}.log"
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                cmd,
                env=env,
                cwd=workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def ready(self) -> bool:
        return self.ready_line in self.text()

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 the whole group: the prefork pool's children die with their parent, so a send
        in progress is cut off, not finished by an orphan."""
        if self.alive:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, grace: float = 15) -> None:
        """SIGTERM (Celery's warm shutdown: finish the current task), then SIGKILL."""
        if not self.alive:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()


class CeleryProcesses:
    """Real `celery worker` and `celery beat` processes; all stopped at the end of the test.
    `.env` is this test's own copy: change it before starting a process (a batch size, say)."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = dict(env)
        self.dir = workdir
        self.procs: list[Proc] = []

    def _celery(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "servicedesk", *args]

    def worker(
        self, name: str = "w1", concurrency: int = 1, wait: bool = True, pool: str = "prefork"
    ) -> Proc:
        """pool="threads", concurrency=2: the worker as the Procfile starts it."""
        cmd = self._celery(
            "worker",
            "-n",
            f"{name}@%h",
            "--concurrency",
            str(concurrency),
            "--pool",
            pool,
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        )
        return self._start(name, cmd, "ready.", wait)

    def beat(self, name: str = "beat", wait: bool = True) -> Proc:
        cmd = self._celery(
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(self.dir / "beat-schedule"),
            "--pidfile",
            str(self.dir / f"{name}.pid"),
        )
        return self._start(name, cmd, "beat: Starting", wait)

    def mail_intake(self, port: int, name: str = "mail", wait: bool = True) -> Proc:
        """The SMTP intake as the Procfile's `mail` line starts it, on `port`."""
        cmd = [sys.executable, str(ROOT / "manage.py"), "mail_intake", "--port", str(port)]
        return self._start(name, cmd, "Mail intake listening on", wait)

    def web(self, port: int, name: str = "web", wait: bool = True) -> Proc:
        """The web as the Procfile's `web` line starts it (gunicorn, bounded by
        gunicorn.conf.py), run by sh in the project folder as honcho does, on 127.0.0.1:`port`."""
        cmd = ["sh", "-c", f"cd {ROOT} && {procfile_command('web')}"]
        proc = Proc(name, cmd, {**self.env, "PORT": str(port)}, self.dir, "Booting worker")
        self.procs.append(proc)
        if wait:
            self.wait_ready(proc)
        return proc

    def procfile(self, line: str, name: str = "", wait: bool = True) -> Proc:
        """A Celery worker as the Procfile's `line` (`worker`: deliveries and the default queue;
        `timers`: the SLA timers) starts it, run by sh in the project folder as honcho does."""
        name = name or line
        command = procfile_command(line).replace(f"-n {line}@%h", f"-n {name}@%h")
        cmd = ["sh", "-c", f"cd {ROOT} && {command}"]
        proc = Proc(name, cmd, self.env, self.dir, "ready.")
        self.procs.append(proc)
        if wait:
            self.wait_ready(proc)
        return proc

    def start_as_procfile(self, beat: bool = True) -> list[Proc]:
        """Beat, and the `worker` and `timers` lines of the Procfile, booted side by side."""
        procs = [self.beat(wait=False)] if beat else []
        procs += [self.procfile("worker", wait=False), self.procfile("timers", wait=False)]
        self.wait_ready(*procs)
        return procs

    def _start(self, name: str, cmd: list[str], ready_line: str, wait: bool) -> Proc:
        proc = Proc(name, cmd, self.env, self.dir, ready_line)
        self.procs.append(proc)
        if wait:
            self.wait_ready(proc)
        return proc

    def start(self, *workers: str, beat: bool = True) -> list[Proc]:
        """Beat (unless beat=False) and the named workers, booted side by side."""
        procs = [self.beat(wait=False)] if beat else []
        procs += [self.worker(name, wait=False) for name in workers]
        self.wait_ready(*procs)
        return procs

    @staticmethod
    def wait_ready(*procs: Proc) -> None:
        """Start several with wait=False, then wait for all: they boot side by side."""
        for proc in procs:

            def up(proc: Proc = proc) -> bool:
                return proc.ready or not proc.alive

            wait_for(up, 60, f"{proc.name} to start")
            assert proc.alive, f"{proc.name} died at start:\n{proc.text()[-3000:]}"

    def stop_all(self) -> None:
        for proc in self.procs:
            proc.kill()  # the test is over: nothing left to finish gracefully


class Desk:
    """The desk's own code run against the throwaway cluster in separate processes, as the web
    would: tests/faults/driver.py commands and `manage.py`. Commands go to one long-lived driver
    process (Django starts once); a call with its own `env` runs in a fresh process."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.dir = workdir
        self._server: subprocess.Popen | None = None

    def driver(self, *args: str, env: dict[str, str] | None = None) -> dict:
        start = time.monotonic()
        if env:
            cmd = [sys.executable, "-m", "tests.faults.driver", *args]
            answer = json.loads(self._run(cmd, env).stdout.strip().splitlines()[-1])
        else:
            answer = self._ask(list(args))
        if "error" in answer:
            raise AssertionError(f"driver {' '.join(args)} failed:\n{answer['error']}")
        log.info("driver %s took %.1fs", args[0], time.monotonic() - start)
        return answer["result"]

    def _ask(self, args: list[str]) -> dict:
        if self._server is None or self._server.poll() is not None:
            self._server = subprocess.Popen(
                [sys.executable, "-m", "tests.faults.driver", "serve"],
                env=self.env,
                cwd=self.dir,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(self.dir / "driver.log").open("ab"),
                text=True,
                preexec_fn=die_with_parent,
            )
        assert self._server.stdin and self._server.stdout
        self._server.stdin.write(json.dumps(args) + "\n")
        self._server.stdin.flush()
        line = self._server.stdout.readline()
        if not line:
            raise AssertionError(f"the driver died; see {self.dir / 'driver.log'}")
        return json.loads(line)

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        return self._run([sys.executable, str(ROOT / "manage.py"), *args], env).stdout

    def _run(self, cmd: list[str], env: dict[str, str] | None) -> subprocess.CompletedProcess:
        start = time.monotonic()
        done = subprocess.run(
            cmd,
            env={**self.env, **(env or {})},
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(cmd[1:])} failed:\n{done.stderr[-4000:]}")
        log.info("%s took %.1fs", " ".join(cmd[2:4]), time.monotonic() - start)
        return done

    def close(self) -> None:
        if self._server and self._server.poll() is None:
            self._server.kill()
            self._server.wait(10)


# What child_env sets for the fault tests alone: timings short enough for a fault and the
# recovery from it to take seconds, and webhooks let through to the sinks on this machine.
# bench/load's desk_env takes them out again: that run is a deployed desk.
# Stale-claim age = the longest delivery deadline (5) + NOTIFICATION_MARK_SENT_SECONDS (1) +
# NOTIFICATION_CLAIM_GRACE_SECONDS (2): a row claimed by a killed worker is sent again about
# 8 s later (one host here, so no clock skew to cover).
FAULT_SETTINGS = {
    "NOTIFICATION_RELAY_INTERVAL_SECONDS": "1",
    "NOTIFICATION_RELAY_AFTER_SECONDS": "2",
    "NOTIFICATION_BACKOFF_SECONDS": "1",
    "CELERY_TASK_TIME_LIMIT": "6",
    "CELERY_TASK_SOFT_TIME_LIMIT": "5",
    "WEBHOOK_DEADLINE_SECONDS": "5",
    "EMAIL_DEADLINE_SECONDS": "5",
    "NOTIFICATION_MARK_SENT_SECONDS": "1",
    "NOTIFICATION_CLAIM_GRACE_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "4",
    "WEBHOOK_ENDPOINT_BACKOFF_SECONDS": "1",
    "WEBHOOK_ENDPOINT_BACKOFF_MAX_SECONDS": "4",
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the sinks listen on this machine
    "SLA_SWEEP_INTERVAL_SECONDS": "1",
}


def child_env(pg: PgCluster, redis_server: RedisServer, workdir: Path) -> dict[str, str]:
    """Environment for every child process: the throwaway services and FAULT_SETTINGS."""
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "SQLITE_PATH"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        DATABASE_URL=pg.url(),
        REDIS_URL=redis_server.url(),
        VAR_DIR=str(workdir / "var"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        FAST_PASSWORD_HASHER="1",
        **FAULT_SETTINGS,
    )
    return env
