"""A real Celery worker (with embedded beat) in its own process, for the SLA end-to-end tests.

Minimal on purpose: the ops branch brings the shared `celery_worker_process` fixture in
tests/escalation/conftest.py; these tests can move to it once merged. The worker uses the test
database (it must be PostgreSQL: the test's transactions have to be visible to another
process) and the Redis of REDIS_URL, whose database it empties first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def worker_database_url() -> str:
    s = connection.settings_dict
    password = s.get("PASSWORD") or ""
    auth = f"{s['USER']}:{password}@" if s.get("USER") else ""
    return f"postgres://{auth}{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("needs Redis (set REDIS_URL)")
    return url


def _wait_ready(process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited early:\n{log.read_text()[-4000:]}")
        if log.exists() and " ready." in log.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not start in {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the worker's own group: worker and beat
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextmanager
def celery_worker_process(tmp_path: Path, **env: str) -> Iterator[subprocess.Popen]:
    """Start `celery worker -B` against the test database; stop it (and its beat) afterwards."""
    import redis

    broker = redis_url()
    redis.Redis.from_url(broker).flushdb()  # stale triggers of an earlier run mean nothing here
    log = tmp_path / "worker.log"
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "servicedesk",
        "worker",
        "-B",
        "-s",
        str(tmp_path / "beat-schedule"),
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "-n",
        f"sla-test-{uuid.uuid4().hex[:8]}@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(process, log, timeout=90)
        yield process
    finally:
        _stop(process)
