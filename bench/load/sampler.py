"""What the machine spends during a load run, sampled every INTERVAL seconds into a CSV: CPU per
process group (each group's processes and all their children, from psutil's CPU times), the
primary's active backends by wait event type, and the broker's queue depth (Redis: the length
of Celery's queues; RabbitMQ: not read, shown empty)."""

from __future__ import annotations

import contextlib
import csv
import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg2
import redis

INTERVAL = 2.0
GROUPS = ("web", "workers", "postgres", "replica", "pgbouncer", "broker", "haproxy", "locust",
          "runner")  # fmt: skip
WAITS = ("active", "Lock", "LWLock", "IO", "Client", "other")
QUEUES = ("celery", "delivery", "delivery_bulk", "timers")


class Sampler(threading.Thread):
    def __init__(self, top: Any, path: Path) -> None:
        super().__init__(daemon=True)
        self.top, self.path = top, path
        self.done = threading.Event()
        self.seen: dict[int, float] = {}  # pid -> CPU seconds at the last sample

    def _roots(self) -> dict[str, list[int]]:
        roots = {**self.top.pids, **self.top.postgres_pids(), "runner": [os.getpid()]}
        if self.top.args.broker:  # RabbitMQ, the machine's own: its Erlang VM
            roots["broker"] = [p.pid for p in psutil.process_iter(["name"]) if
                               p.info["name"] == "beam.smp"]  # fmt: skip
        else:
            roots["broker"] = [self.top.redis.proc.pid]
        return roots

    def _cpu(self) -> dict[str, float]:
        """CPU seconds per group since the last sample (a new process counts from its start)."""
        spent = dict.fromkeys(GROUPS, 0.0)
        now: dict[int, float] = {}
        priming = not self.seen
        for group, pids in self._roots().items():
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    root = psutil.Process(pid)
                    # The runner's children are the groups above: count only itself.
                    family = [root] if group == "runner" else [root, *root.children(True)]
                    for proc in family:
                        with contextlib.suppress(psutil.Error):
                            times = proc.cpu_times()
                            total = times.user + times.system
                            now[proc.pid] = total
                            # A process not seen before: all its time is this interval's,
                            # except at the first sample, which only primes.
                            before = self.seen.get(proc.pid, total if priming else 0.0)
                            spent[group] += total - before
        self.seen = now
        return spent

    def _waits(self) -> dict[str, int]:
        rows = self.top.primary.query(
            "SELECT coalesce(wait_event_type, 'active'), count(*) FROM pg_stat_activity "
            "WHERE state = 'active' AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid() GROUP BY 1",
            (),
            "postgres",
        )
        waits = dict.fromkeys(WAITS, 0)
        for kind, n in rows:
            waits[kind if kind in waits else "other"] += n
        return waits

    def _depth(self) -> int | str:
        if self.top.args.broker:
            return ""
        client = redis.Redis(port=self.top.redis.port, db=0, socket_timeout=2)
        return sum(client.llen(name) for name in QUEUES)

    def run(self) -> None:
        with self.path.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["t", *GROUPS, *(f"db_{w}" for w in WAITS), "queue_depth"])
            self._cpu()
            last = time.time()
            while not self.done.wait(INTERVAL):
                spent = self._cpu()
                elapsed, last = time.time() - last, time.time()
                try:
                    waits, depth = self._waits(), self._depth()
                except (psycopg2.Error, redis.RedisError):
                    waits, depth = dict.fromkeys(WAITS, 0), ""
                cpu = [f"{100 * spent[g] / elapsed:.1f}" for g in GROUPS]
                writer.writerow([f"{last:.1f}", *cpu, *(waits[w] for w in WAITS), depth])
                out.flush()

    def stop(self) -> None:
        self.done.set()
        self.join(10)
