"""Run calls at the same instant in threads, each with its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections, transaction

from tenancy.config_stamp import report_lock


def run_together(*calls: Callable[[], Any], timeout: float = 60) -> list[tuple[str, Any]]:
    """Run the calls in threads started at the same instant; ("ok", result) or ("error", exc)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, Any]] = [("unfinished", None)] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            outcomes[index] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the test inspects every outcome
            outcomes[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread hung (a lock never released?)"
    return outcomes


@contextmanager
def report_in_flight(tenant_id: int, seconds: float = 20) -> Iterator[None]:
    """A report of the tenant that has taken its shared lock on the configuration and is not
    done (slow storage, a stuck worker), held in a thread until the block ends."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                report_lock(tenant_id)
                holding.set()
                done.wait(seconds)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10), "the report never took its lock"
    try:
        yield
    finally:
        done.set()
        thread.join(seconds)
