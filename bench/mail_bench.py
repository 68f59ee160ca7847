"""Email in: 2,000 mails over SMTP into the running intake, half new conversations and half
replies, with every process of the Procfile but the web started as it starts them (the worker at
concurrency 2, `--concurrency`), next to baselines measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h6_bench REDIS_URL=redis://127.0.0.1:6379/10 \
        .venv/bin/python bench/mail_bench.py [--mails 2000] [--clients 4] [--rate 0]

The database named in DATABASE_URL is dropped and re-created, and the Redis database of
REDIS_URL is emptied (give it one of its own). Prints:
- the intake rate (mails/s answered 250 over SMTP) and the bare store rate (`inbound_store`
  called in this process, no SMTP) with their ratio;
- the delay from each mail's 250 to its processing (`InboundMail.processed_at`, set in the
  transaction that writes the incident or comment, so they become visible together): p50, p95,
  max; the processing throughput and the services' own rate (`incident_report` and
  `comment_add` called directly, one thread) with their ratio;
- where a mail's time goes: the worker's task runtimes (from its log), the statements per mail
  stored and processed, the CPU seconds of each process;
- lost and doubled: each new conversation must be exactly one incident and each reply exactly
  one comment on the incident it answers.
Goal (issue 13): p95 under 5 s, nothing lost, nothing doubled; the script exits 1 otherwise.
`--rate` offers the mails at that many per second in total (0: as fast as the clients go).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import urlparse

import dbsetup

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's code in this process too, as in its children
TOKEN = re.compile(r"bench-[NRSB]\d{5}")
SLUG = "bench-mail"
MEMBERS = 20


# --- the processes, as the Procfile starts them -----------------------------------------------


def procfile() -> dict[str, list[str]]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if command.strip():
            commands[name.strip()] = shlex.split(command.strip().removeprefix("exec "))
    return commands


class Process:
    def __init__(self, name: str, cmd: list[str], env: dict, logdir: Path) -> None:
        self.name, self.cmd, self.log = name, cmd, logdir / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, line: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.text():
            if self.popen.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"{self.name} did not start:\n{self.text()[-3000:]}")
            time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """CPU of the process and its children (a prefork pool's processes), so far."""
        return sum(cpu_of(pid) for pid in group_pids(self.popen.pid))

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY = {"mail": "Mail intake listening on", "beat": "beat: Starting"}


def with_concurrency(cmd: list[str], concurrency: int) -> list[str]:
    """The worker's command with its concurrency set (the issue measures at 2)."""
    kept = [a for a in cmd if not a.startswith("--concurrency")]
    return [*kept, f"--concurrency={concurrency}"]


def start_desk(env: dict, logdir: Path, port: int, concurrency: int) -> dict[str, Process]:
    """Every process of the Procfile but the web, as it starts them (the `mail` intake on
    `port`, the `worker` at `concurrency`)."""
    commands = {name: cmd for name, cmd in procfile().items() if name != "web"}
    commands["mail"] = [*commands["mail"], "--port", str(port)]
    commands["worker"] = with_concurrency(commands["worker"], concurrency)
    procs = {name: Process(name, cmd, env, logdir) for name, cmd in commands.items()}
    for name, proc in procs.items():
        proc.wait_for(READY.get(name, "ready."))
    return procs


# --- the mails --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    incident_id: int
    reference: str
    sender: str
    root: str
    desk_id: str


@dataclass(frozen=True)
class Mail:
    token: str
    message: EmailMessage
    seed: Seed | None = None

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class Writer:
    """Mail as people write it: new conversations from members and outsiders in turns, and
    replies to the desk's acknowledgement (In-Reply-To and References, quoted history)."""

    def __init__(self, intake: str, members: list[str]) -> None:
        self.intake, self.members, self.count = intake, members, 0

    def _message(self, sender: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.intake
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="client.example")
        message.set_content(body)
        return message

    def _token(self, kind: str) -> str:
        self.count += 1
        return f"bench-{kind}{self.count:05d}"

    def new(self, n: int, kind: str = "N") -> Mail:
        token = self._token(kind)
        sender = self.members[n % len(self.members)] if n % 2 == 0 else f"ext{n}@outside.example"
        subject = f"VPN drops every few minutes ({token})"
        body = f"{token}: the VPN drops every few minutes since this morning.\n\nThanks,\nSam"
        return Mail(token, self._message(sender, subject, body))

    def reply(self, seed: Seed) -> Mail:
        token = self._token("R")
        body = (
            f"It dropped again at 10:42, {token}.\n\n"
            f"On Mon, 7 Dec 2026 at 09:00, Service desk <{self.intake}> wrote:\n"
            f"> We received your request {seed.reference}.\n> Regards, the desk\n"
        )
        message = self._message(seed.sender, f"Re: [{seed.reference}] VPN drops", body)
        message["In-Reply-To"] = seed.desk_id
        message["References"] = f"{seed.root} {seed.desk_id}"
        return Mail(token, message, seed)

    def batch(self, count: int, seeds: list[Seed]) -> list[Mail]:
        return [
            self.new(n // 2) if n % 2 == 0 else self.reply(seeds[n // 2 % len(seeds)])
            for n in range(count)
        ]


def send(port: int, intake: str, mails: list[Mail], clients: int, rate: float) -> dict:
    """Over SMTP from `clients` threads, each on its own connection; the time of each 250."""
    accepted: dict[str, float] = {}
    refused: list[str] = []
    began = time.time()

    def client(index: int) -> None:
        part = mails[index::clients]
        with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
            for k, mail in enumerate(part):
                if rate:  # paced: this client's k-th mail leaves at its share of the rate
                    delay = began + (k * clients + index) / rate - time.time()
                    if delay > 0:
                        time.sleep(delay)
                try:
                    smtp.sendmail(str(mail.message["From"]), [intake], mail.message.as_bytes())
                except smtplib.SMTPResponseException as exc:
                    refused.append(f"{mail.token}: {exc.smtp_code}")
                    continue
                accepted[mail.message_id] = time.time()

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return {"accepted": accepted, "refused": refused, "began": began, "ended": time.time()}


# --- reading the outcome ----------------------------------------------------------------------


def rows(tenant_id: int, mails: list[Mail]) -> dict[str, tuple]:
    from mail.models import InboundMail

    found = InboundMail.objects.for_tenant(tenant_id).filter(
        message_id__in=[m.message_id for m in mails]
    )
    return {
        r[0]: r[1:]
        for r in found.values_list("message_id", "status", "outcome", "incident_id", "processed_at")
    }


def wait_processed(tenant_id: int, mails: list[Mail], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = rows(tenant_id, mails)
        waiting = len(mails) - sum(1 for r in found.values() if r[0] != "received")
        if not waiting:
            return
        if time.monotonic() > deadline:
            sys.exit(f"{waiting} of {len(mails)} mails still waiting after {timeout:.0f}s")
        time.sleep(0.5)


def seed(tenant_id: int, writer: Writer, port: int, count: int) -> list[Seed]:
    """`count` conversations sent, processed and acknowledged by mail: what replies answer."""
    from mail.models import ThreadMessage

    mails = [writer.new(n, kind="S") for n in range(count)]
    send(port, writer.intake, mails, 4, 0)
    wait_processed(tenant_id, mails, 600)
    made = rows(tenant_id, mails)
    received = {m.message_id for m in mails}
    deadline = time.monotonic() + 120
    while True:
        ids: dict[int, dict] = {}
        threads = ThreadMessage.objects.for_tenant(tenant_id).values_list(
            "incident_id", "incident__number", "message_id"
        )
        for incident_id, number, message_id in threads:
            entry = ids.setdefault(incident_id, {"number": number})
            if message_id.startswith("<incident."):
                entry["root"] = message_id
            elif message_id not in received:
                entry["desk"] = message_id
        seeds = [
            Seed(
                made[m.message_id][2],
                f"INC-{ids[made[m.message_id][2]]['number']:06d}",
                str(m.message["From"]),
                ids[made[m.message_id][2]]["root"],
                ids[made[m.message_id][2]]["desk"],
            )
            for m in mails
            if {"root", "desk"} <= set(ids.get(made[m.message_id][2], {}))
        ]
        if len(seeds) == count:
            return seeds
        if time.monotonic() > deadline:
            sys.exit(f"only {len(seeds)} of {count} seeds acknowledged by mail")
        time.sleep(0.5)


def lost_and_doubled(tenant_id: int, mails: list[Mail]) -> dict:
    """Each new conversation exactly one incident, each reply exactly one comment on the
    incident it answers; statuses of the stored rows."""
    from incidents.models import Comment, Incident

    found = rows(tenant_id, mails)
    statuses = Counter(f"{r[0]}/{r[1]}" for r in found.values())
    titles: Counter = Counter()
    for title in Incident.objects.for_tenant(tenant_id).values_list("title", flat=True):
        titles.update(TOKEN.findall(title))
    comments: Counter = Counter()
    for incident_id, body in Comment.objects.for_tenant(tenant_id).values_list(
        "incident_id", "body"
    ):
        comments.update((t, incident_id) for t in TOKEN.findall(body))
    news = [titles[m.token] for m in mails if m.seed is None]
    replies = [comments[(m.token, m.seed.incident_id)] for m in mails if m.seed is not None]
    lost = sum(1 for n in news + replies if n == 0)  # a mail not stored made nothing either
    doubled = sum(n - 1 for n in news + replies if n > 1)
    return {"statuses": dict(statuses), "lost": lost, "doubled": doubled}


def task_runtimes(log: str) -> dict[str, list[float]]:
    """Runtime of each finished process_inbound task, by result, from the worker's log."""
    found: dict[str, list[float]] = {}
    pattern = r"Task mail\.process_inbound\[[^\]]+\] succeeded in ([0-9.e-]+)s: '(\w+)'"
    for seconds, result in re.findall(pattern, log):
        found.setdefault(result, []).append(float(seconds))
    return found


class Sessions:
    """The bench database's sessions sampled every 0.2 s during the run (a poor man's active
    session history): on average how many run a statement, wait for a lock, or sit idle in a
    transaction while their process works in Python; and the CPU seconds of their backends."""

    STATES = ("running", "lock wait", "idle in transaction")

    def __init__(self, url: str) -> None:
        import psycopg2

        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True
        self.samples: Counter = Counter()
        self.count = 0
        self.cpu_start = self.backend_cpu()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _query(self, sql: str) -> list[tuple]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            rows = self._query(
                "SELECT state, wait_event_type FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            self.count += 1
            for state, wait in rows:
                if state == "active":
                    self.samples["lock wait" if wait == "Lock" else "running"] += 1
                elif state and state.startswith("idle in transaction"):
                    self.samples["idle in transaction"] += 1

    def backend_cpu(self) -> dict[int, float]:
        pids = self._query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        found = {}
        for (pid,) in pids:
            with contextlib.suppress(OSError):  # not on this host, or gone
                found[pid] = cpu_of(pid)
        return found

    def finish(self) -> str:
        self.stop.set()
        self.thread.join()
        cpu = sum(t - self.cpu_start.get(pid, 0.0) for pid, t in self.backend_cpu().items())
        self.conn.close()
        average = ", ".join(
            f"{state} {self.samples[state] / max(self.count, 1):.2f}" for state in self.STATES
        )
        return f"sessions on average: {average}; postgres backends CPU {cpu:.1f} s"


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_pids(group: int) -> list[int]:
    """The processes of a process group (each desk process runs in a session of its own)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rpartition(")")[2].split()[2]) == group:
                pids.append(int(stat.parent.name))
    return pids


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --- baselines, in this process ---------------------------------------------------------------


def baseline_store(intake, writer: Writer, count: int) -> tuple[float, float]:
    """(mails/s, statements per mail) of `inbound_store_for_recipients`, the intake's DATA step
    without SMTP, one thread; its processing triggers go to Redis and are dropped after."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mail.services.store import inbound_store_for_recipients

    raws = [writer.new(n, kind="B").message.as_bytes() for n in range(count)]
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        for raw in raws:
            inbound_store_for_recipients(raw=raw, recipients=[intake.address], via="smtp")
        elapsed = time.perf_counter() - start
    return count / elapsed, len(queries) / count


def requester(slug: str):
    """A requester of a fresh tenant, as the actor a member's mail becomes."""
    from tenancy.actors import Actor
    from tenancy.models import Membership

    tenant, _, _, members = make_tenant(slug)
    membership = Membership.objects.select_related("tenant", "user").get(
        tenant=tenant, user__email=members[0]
    )
    return Actor.member(membership)


def baseline_services(actor, seeds: int, count: int) -> float:
    """Incidents/s and comments/s, half each, through incident_report and comment_add called
    directly by a requester (one thread), replies on `seeds` incidents of theirs: the services'
    own cost, which processing mail cannot go below."""
    from incidents.services import comment_add, incident_report

    targets = [
        incident_report(actor=actor, title=f"Seed {n}", impact="medium", urgency="medium")
        for n in range(seeds)
    ]
    start = time.perf_counter()
    for n in range(count):
        if n % 2 == 0:
            incident_report(
                actor=actor,
                title=f"VPN drops every few minutes ({n})",
                description="The VPN drops every few minutes since this morning.",
                impact="medium",
                urgency="medium",
            )
        else:
            comment_add(
                incident=targets[n // 2 % len(targets)],
                actor=actor,
                body=f"It dropped again at 10:42 ({n}).",
                public=True,
            )
    return count / (time.perf_counter() - start)


def baseline_process(tenant_id: int, count: int) -> tuple[float, float]:
    """(mails/s, statements per mail) of `inbound_process` called directly on stored mails (the
    bare-store baseline's), one thread, no broker: the worker's work without Celery."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mail.models import InboundMail
    from mail.services.process import inbound_process

    ids = list(
        InboundMail.objects.for_tenant(tenant_id)
        .filter(status="received")
        .order_by("id")
        .values_list("id", flat=True)[:count]
    )
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        for inbound_id in ids:
            inbound_process(inbound_id=inbound_id)
        elapsed = time.perf_counter() - start
    return len(ids) / elapsed, len(queries) / max(len(ids), 1)


# --- the run ----------------------------------------------------------------------------------


def prepare(env: dict) -> None:
    url = urlparse(env["DATABASE_URL"])
    name = url.path.lstrip("/")
    dbsetup.recreate(env["DATABASE_URL"].replace(url.path, "/postgres"), name)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    dbsetup.setup_django(env["DATABASE_URL"])


def make_tenant(slug: str):
    """A tenant with an admin, MEMBERS requesters and the intake help@<slug>.test."""
    from mail.services.admin import intake_address_create
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=slug, name=slug)
    admin = User.objects.create_user(f"admin@{slug}.test", full_name="Bench Admin")
    actor = Actor.member(Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN))
    members = []
    for n in range(MEMBERS):
        user = User.objects.create_user(f"member{n}@{slug}.test", full_name=f"Member {n}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
        members.append(user.email)
    intake = intake_address_create(actor=actor, address=f"help@{slug}.test")
    return tenant, actor, intake, members


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4, help="SMTP client threads")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's")
    parser.add_argument("--rate", type=float, default=0, help="mails/s offered (0: at once)")
    parser.add_argument("--seeds", type=int, default=100, help="incidents the replies answer")
    parser.add_argument("--store-baseline", type=int, default=500)
    parser.add_argument("--process-baseline", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    # A plain kill still stops the desk's processes (they run in sessions of their own).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DEBUG": "0", "LOG_LEVEL": "INFO"}
    if not env.get("DATABASE_URL", "").startswith("postgres") or not env.get("REDIS_URL"):
        sys.exit("Set DATABASE_URL (PostgreSQL; dropped and re-created) and REDIS_URL.")
    prepare(env)
    tenant, _, intake, members = make_tenant(SLUG)
    workdir = Path(tempfile.mkdtemp(prefix="mail-bench-"))
    env["VAR_DIR"] = str(workdir / "var")  # beat's schedule, the desk's mail files
    port = free_port()
    procs = start_desk(env, workdir, port, args.concurrency)
    writer = Writer(intake.address, members)
    try:
        seeds = seed(tenant.pk, writer, port, args.seeds)
        mails = writer.batch(args.mails, seeds)
        cpu_before = {name: p.cpu_seconds() for name, p in procs.items()}
        sessions = Sessions(env["DATABASE_URL"])
        sent = send(port, intake.address, mails, args.clients, args.rate)
        wait_processed(tenant.pk, mails, args.timeout)
        cpu = {name: p.cpu_seconds() - cpu_before[name] for name, p in procs.items()}
        database = sessions.finish()
        worker_log = procs["worker"].text()
    finally:
        for proc in procs.values():
            proc.stop()
    found = rows(tenant.pk, mails)
    accepted = sent["accepted"]
    delays = [found[m.message_id][3].timestamp() - accepted[m.message_id] for m in mails]
    last_processed = max(r[3].timestamp() for r in found.values())
    intake_rate = len(accepted) / (max(accepted.values()) - sent["began"])
    throughput = len(mails) / (last_processed - sent["began"])
    outcome = lost_and_doubled(tenant.pk, mails)
    runtimes = task_runtimes(worker_log)

    # Baselines, with the worker and beat stopped: nothing they queue is consumed.
    _, store_actor, store_intake, store_members = make_tenant("bench-store")
    store_writer = Writer(store_intake.address, store_members)
    store_rate, store_queries = baseline_store(store_intake, store_writer, args.store_baseline)
    process_rate, process_queries = baseline_process(store_actor.tenant.pk, args.process_baseline)
    services_rate = baseline_services(requester("bench-direct"), args.seeds, args.mails)
    import redis

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    offered = f"{args.rate:g}/s" if args.rate else "at once"
    print(
        f"{len(mails)} mails ({sum(m.seed is None for m in mails)} new, "
        f"{sum(m.seed is not None for m in mails)} replies to {args.seeds} incidents), "
        f"{args.clients} SMTP clients, offered {offered}; load average {load}"
    )
    print("worker: " + " ".join(procs["worker"].cmd))
    print(f"{'':<44}{'mails/s':>9}")
    print(f"{'intake over SMTP (250s)':<44}{intake_rate:>9.1f}")
    print(f"{'bare store, in process (baseline)':<44}{store_rate:>9.1f}")
    print(f"{'processing throughput (accept -> processed)':<44}{throughput:>9.1f}")
    print(f"{'inbound_process, in process, 1 thread':<44}{process_rate:>9.1f}")
    print(f"{'services direct, 1 thread (baseline)':<44}{services_rate:>9.1f}")
    print(
        f"ratios: intake/bare store {intake_rate / store_rate:.0%}; "
        f"processing/services {throughput / services_rate:.0%}; "
        f"inbound_process/services {process_rate / services_rate:.0%}"
    )
    print(
        f"delay accept -> processed (s): p50 {pct(delays, 50):.2f}  p95 {pct(delays, 95):.2f}  "
        f"max {max(delays):.2f}"
    )
    for result, times in sorted(runtimes.items()):
        print(
            f"process_inbound '{result}': {len(times)} tasks, runtime p50 "
            f"{pct(times, 50) * 1000:.0f} ms, p95 {pct(times, 95) * 1000:.0f} ms, "
            f"mean {statistics.mean(times) * 1000:.0f} ms"
        )
    print(
        f"statements per mail: store {store_queries:.1f}, process {process_queries:.1f}; "
        "CPU s during the run: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in cpu.items())
    )
    print(f"database during the run: {database}")
    print(
        f"statuses {outcome['statuses']}; lost {outcome['lost']}, doubled {outcome['doubled']}; "
        f"refused by the intake {len(sent['refused'])}"
    )
    met = pct(delays, 95) < 5 and not outcome["lost"] and not outcome["doubled"]
    print(f"Goal (p95 under 5 s, nothing lost, nothing doubled): {'met' if met else 'MISSED'}")
    print(f"logs: {workdir}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
