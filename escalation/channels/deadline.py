"""An overall deadline for one delivery attempt: connect, send and read together.

A socket timeout bounds each operation, not their sum: a receiver that sends a byte every few
seconds never trips it and holds the worker for as long as it likes. The guard does not rely on
Celery's time limits either (the threads pool ignores them, and in prefork they kill the whole
process). When the deadline passes, a timer thread shuts the watched socket down, which ends
the read or write in progress at once; the channel then reports a retryable, slow failure.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

SocketGetter = Callable[[], socket.socket | None]


class Deadline:
    """`with Deadline(15) as deadline:` ... `deadline.watch(lambda: conn.sock)`.

    The getter is asked at expiry, so it finds the socket in use then (a STARTTLS upgrade
    replaces the plain one). Nothing is shut down once the block is left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._getters: list[SocketGetter] = []
        self._over = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            self._over = True
        self._timer.cancel()

    def left(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def timeout(self, per_operation: float) -> float:
        """A socket timeout for the next step: its own, or what is left of the deadline."""
        return max(0.05, min(per_operation, self.left()))

    def watch(self, getter: SocketGetter) -> None:
        with self._lock:
            self._getters.append(getter)
            if not self.expired:
                return
        self._shut(getter)  # watched too late: the deadline has passed already

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            getters = list(self._getters)
            # Under the lock: the with-block cannot end (and its sockets be closed and their
            # numbers reused) while they are shut down.
            for getter in getters:
                self._shut(getter)

    @staticmethod
    def _shut(getter: SocketGetter) -> None:
        sock = getter()
        if sock is None:
            return
        # The plain socket's shutdown, also under TLS: it wakes the reader at once. An error
        # means already closed or never connected: nothing in progress to end.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
