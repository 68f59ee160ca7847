"""A Celery worker process for tests, and the helpers that point this process's app at its broker.

Used through the `celery_worker_process` fixture (tests/escalation/conftest.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from servicedesk.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)


def wait_until(predicate: Callable[[], object], *, timeout: float = 20, what: str = "") -> None:
    """Poll until predicate() is true; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, *, count: int = 1, timeout: float = 30) -> None:
        def seen() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.log()}")
            return self.log().count(text) >= count

        wait_until(seen, timeout=timeout, what=f"{text!r} x{count} in the worker's log")

    def kill(self) -> None:
        """Die at once, mid-task if there is one, as a worker does on a power cut or OOM kill."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def database_env() -> dict[str, str]:
    """Point the worker at pytest-django's test database (its name is only known now)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "postgres", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
        return {"DATABASE_URL": f"postgres://{auth}@{host}:{port}/{db['NAME']}"}
    return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}


def broker_for_test(tmp_path: Path) -> dict:
    """Redis (a key prefix of the test's own) when REDIS_URL is set, else folders of its own."""
    if settings.REDIS_URL:
        prefix = f"sdtest-{uuid.uuid4().hex[:12]}:"
        return {
            "url": settings.REDIS_URL,
            "options": {"global_keyprefix": prefix, "visibility_timeout": 3600},
        }
    folders = {name: tmp_path / "broker" / name for name in ("in", "processed", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    return {
        "url": "filesystem://",
        "options": {
            "data_folder_in": str(folders["in"]),
            "data_folder_out": str(folders["in"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
        },
    }


def _point_app_at(url: str, options: dict, *, eager: bool) -> None:
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = options
    celery_app.conf.task_always_eager = eager
    # The app caches its connection and producer pools: drop them so the next send uses `url`.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_app_publishing_to(broker: dict) -> Iterator[None]:
    """This process's Celery app sends to `broker` (not eagerly) inside the block."""
    saved = (
        celery_app.conf.broker_url,
        celery_app.conf.broker_transport_options,
        celery_app.conf.task_always_eager,
    )
    _point_app_at(broker["url"], broker["options"], eager=False)
    try:
        yield
    finally:
        _point_app_at(saved[0], saved[1], eager=saved[2])


def worker_env(tmp_path: Path, broker: dict, extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "PYTHONPATH": str(BASE_DIR),
        "VAR_DIR": str(tmp_path / "worker-var"),
        "SD_TEST_BROKER": json.dumps(broker),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "FAST_PASSWORD_HASHER": "1",
        "LOG_LEVEL": "INFO",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the tests' receivers listen on this machine
        **database_env(),
    }
    env.update(extra)
    return env


def drop_broker(broker: dict) -> None:
    prefix = broker["options"].get("global_keyprefix")
    if prefix:
        import redis

        client = redis.Redis.from_url(broker["url"])
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
