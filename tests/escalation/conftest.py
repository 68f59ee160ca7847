"""Fixtures for tests that need the real delivery path: a Celery worker process and an SMTP sink.

`celery_worker_process` is a factory: `celery_worker_process(env={...}, beat=True)` starts a
worker (with an embedded beat when asked) on the test's own database and a broker of its own,
and points this process's Celery app at the same broker, so `.delay()` and on-commit triggers in
the test reach it. Every worker started is stopped at teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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
from tests.escalation.smtp_sink import SmtpSink, start_sink

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


def _database_env() -> dict[str, str]:
    """Point the worker at pytest-django's test database (its name is only known now)."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = quote(db["USER"] or "postgres", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
        return {"DATABASE_URL": f"postgres://{auth}@{host}:{port}/{db['NAME']}"}
    return {"DATABASE_URL": "", "SQLITE_PATH": str(db["NAME"])}


def _test_broker(tmp_path: Path) -> dict:
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


def _worker_env(tmp_path: Path, broker: dict, extra: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "PYTHONPATH": str(BASE_DIR),
        "VAR_DIR": str(tmp_path / "worker-var"),
        "SD_TEST_BROKER": json.dumps(broker),
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "FAST_PASSWORD_HASHER": "1",
        "LOG_LEVEL": "INFO",
        **_database_env(),
    }
    env.update(extra)
    return env


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    broker = _test_broker(tmp_path)
    started: list[WorkerProcess] = []

    def start(*, env: dict[str, str] | None = None, beat: bool = False) -> WorkerProcess:
        n = len(started) + 1
        args = [
            sys.executable, "-m", "tests.escalation.celery_worker_main", "worker",
            "--pool=solo", "--loglevel=INFO", f"--hostname=test{n}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if beat:
            args += ["--beat", f"--schedule={tmp_path / f'beat-schedule-{n}'}"]
        log_path = tmp_path / f"worker-{n}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                args,
                cwd=BASE_DIR,
                env=_worker_env(tmp_path, broker, env or {}),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process, log_path)
        started.append(worker)
        worker.wait_for_log(" ready.")
        return worker

    with celery_app_publishing_to(broker):
        yield start
        for worker in started:
            worker.stop()
    _drop_broker(broker)


def _drop_broker(broker: dict) -> None:
    prefix = broker["options"].get("global_keyprefix")
    if prefix:
        import redis

        client = redis.Redis.from_url(broker["url"])
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink, controller = start_sink()
    yield sink
    sink.release()
    controller.stop()


@pytest.fixture
def mail_to_sink(smtp_sink: SmtpSink) -> dict[str, str]:
    """Environment that sends a worker's mail to the sink over real SMTP."""
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp_sink.host,
        "EMAIL_PORT": str(smtp_sink.port),
        "EMAIL_TIMEOUT": "5",
        "SITE_URL": "https://desk.example.test",
    }
