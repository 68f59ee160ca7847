"""Fixtures for tests that need the real delivery path: a Celery worker process and an SMTP sink.

`celery_worker_process` is a factory: `celery_worker_process(env={...}, beat=True)` starts a
worker (with an embedded beat when asked) on the test's own database and a broker of its own,
and points this process's Celery app at the same broker, so `.delay()` and on-commit triggers in
the test reach it. Every worker started is stopped at teardown. It needs `transactional_db`:
the worker sees only committed data. Other test folders can use it by importing the fixtures
(`from tests.escalation.conftest import celery_worker_process`) into their conftest.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest
import time_machine

from tests.escalation.sla_helpers import MONDAY_10
from tests.escalation.smtp_sink import SmtpSink, start_sink
from tests.escalation.worker import (
    BASE_DIR,
    WorkerProcess,
    broker_for_test,
    celery_app_publishing_to,
    drop_broker,
    worker_env,
)


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    broker = broker_for_test(tmp_path)
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
                env=worker_env(tmp_path, broker, env or {}),
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
    drop_broker(broker)


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


@pytest.fixture
def clock_at(people) -> Iterator[time_machine.Traveller]:
    """Time stands still at MONDAY_10 until the test moves it (sla_helpers.move_to)."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller
