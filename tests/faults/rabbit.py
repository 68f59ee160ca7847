"""A throwaway RabbitMQ node for the fault tests: its own node name, ports, data, logs and
Erlang cookie in a temp dir, no plugins (so no management port to clash with the machine's
RabbitMQ). Killing it never touches the broker the rest of the machine uses.
See tests/faults/README.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import amqp

from tests.faults.harness import Desk, RedisServer, die_with_parent, free_port, wait_for

RABBITMQ_SERVER = Path(os.environ.get("RABBITMQ_SERVER", "/usr/lib/rabbitmq/bin/rabbitmq-server"))
# The node takes a few seconds to boot, more to recover its quorum queues after a kill.
BOOT_TIMEOUT = 60


class RabbitServer:
    """rabbitmq-server as a node of its own on free ports. `stop()` is SIGKILL of the Erlang VM,
    a crash: quorum queues keep what they confirmed, as on a real node."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: a long path there can exceed what Erlang's files allow,
        # and the node's files outlive one test anyway.
        self.dir = Path(tempfile.mkdtemp(prefix="sd-faults-rabbit-"))
        self.port = free_port()
        self.dist_port = free_port()
        self.node = f"sd-faults-{uuid.uuid4().hex[:8]}@localhost"
        self.proc: subprocess.Popen | None = None
        (self.dir / "enabled_plugins").write_text("[].\n")
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users = none\n"
            # The machine's disk may be fuller than RabbitMQ's default 50 MB alarm allows for.
            "disk_free_limit.absolute = 1MB\n"
        )
        (self.dir / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq's node name

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            # The Erlang cookie goes to $HOME/.erlang.cookie: the temp dir, never root's home.
            HOME=str(self.dir),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_CONF_ENV_FILE=str(self.dir / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(self.dir / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.dir / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(self.dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.dir / "log"),
            RABBITMQ_PID_FILE=str(self.dir / "rabbit.pid"),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def start(self) -> None:
        with (self.dir / "stdout.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [str(RABBITMQ_SERVER)],
                env=self._env(),
                cwd=self.dir,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the VM and its port programs die together
                preexec_fn=die_with_parent,
            )
        wait_for(self._answers, BOOT_TIMEOUT, "the RabbitMQ node to accept AMQP")

    def _answers(self) -> bool:
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"the RabbitMQ node died:\n{self.log()[-3000:]}")
        try:
            with self._connection():
                return True
        except (OSError, amqp.exceptions.AMQPError):
            return False

    def log(self) -> str:
        return (self.dir / "stdout.log").read_text(errors="replace")

    def stop(self) -> None:
        """SIGKILL of the whole node, as after a crash: no clean shutdown of its queues."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @contextlib.contextmanager
    def _connection(self):
        conn = amqp.Connection(f"127.0.0.1:{self.port}", connect_timeout=2)
        conn.connect()
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.close()

    def ctl(self, *args: str) -> str:
        """rabbitmqctl against this node, with its cookie (HOME is the node's temp dir)."""
        ctl = RABBITMQ_SERVER.with_name("rabbitmqctl")
        cmd = [str(ctl), "-n", self.node, "-q", *args]
        done = subprocess.run(cmd, env=self._env(), capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    def queue_types(self) -> dict[str, str]:
        """name -> type (classic, quorum) of every queue on the node."""
        rows = self.ctl("list_queues", "name", "type", "--no-table-headers")
        return dict(line.split() for line in rows.splitlines() if line.strip())

    def queued(self, queue: str) -> int:
        """Messages ready in `queue` (0 when it was never declared)."""
        with self._connection() as conn:
            try:
                return conn.channel().queue_declare(queue, passive=True).message_count
            except amqp.exceptions.NotFound:
                return 0

    def purge(self, *queues: str) -> None:
        """Empty the queues that exist; a queue not declared yet is skipped. One channel each:
        a missing queue closes the channel that asked."""
        with self._connection() as conn:
            for queue in queues:
                with contextlib.suppress(amqp.exceptions.NotFound):
                    conn.channel().queue_purge(queue)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# What a purge between tests empties: the desk's queues and those of Celery's native delayed
# delivery (countdowns and retry back-offs wait there), so no message outlives its test.
DELIVERY_LANES = ("delivery", "delivery_bulk")
DESK_QUEUES = ("celery", *DELIVERY_LANES, "timers")
DELAYED_QUEUES = tuple(f"celery_delayed_{level}" for level in range(28))


@dataclass
class Broker:
    """The broker a fault test runs on, either one: Redis (unpersisted, so a restart loses what
    was queued) or RabbitMQ (quorum queues, so a restart after a kill keeps what was confirmed).
    `desk` publishes to it; `env` is what a child process needs to use it."""

    name: str
    server: RedisServer | RabbitServer
    desk: Desk
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """SIGKILL of the broker: a crash, not a clean shutdown."""
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def queued(self, queue: str) -> int:
        """Messages waiting in `queue`, taken by no worker yet."""
        if isinstance(self.server, RedisServer):
            return int(self.server.client().llen(queue))
        return self.server.queued(queue)

    def deliveries_queued(self) -> int:
        """Delivery triggers waiting in both lanes (a tenant past NOTIFICATION_BULK_AFTER rows a
        minute sends its own to delivery_bulk: escalation/services/lanes.py)."""
        return sum(self.queued(lane) for lane in DELIVERY_LANES)

    def empty(self) -> None:
        """Up, with nothing queued: an earlier test's messages cannot blur this one's counts."""
        if self.server.proc is None or self.server.proc.poll() is not None:
            self.server.start()
        if isinstance(self.server, RedisServer):
            self.server.client().flushall()
        else:
            self.server.purge(*DESK_QUEUES, *DELAYED_QUEUES)
