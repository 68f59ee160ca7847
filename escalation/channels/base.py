from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from escalation.models import Notification


class TransportError(Exception):
    """`permanent`: sending again cannot help. `slow`: the receiver held the worker until a
    timeout or the delivery's deadline; its endpoint backs off (outbox.py)."""

    def __init__(self, message: str, *, permanent: bool = False, slow: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.slow = slow


class Session(Protocol):
    """Several rows sent as one attempt: what can be shared (a mail server's connection) is,
    and every send ends within the session's one deadline (the channel's)."""

    def send(self, notification: Notification) -> None: ...

    def has_time(self) -> bool:
        """Enough of the deadline is left to start another row."""
        ...


class _OneByOne:
    def __init__(self, transport: Transport) -> None:
        self.transport, self.started = transport, False

    def send(self, notification: Notification) -> None:
        self.started = True
        self.transport.notify(notification)

    def has_time(self) -> bool:
        return not self.started  # each row has limits of its own: one per session


class Transport(ABC):
    @abstractmethod
    def notify(self, notification: Notification) -> None:
        """Deliver once; raise TransportError (permanent=True when retrying cannot help)."""

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A channel that can share work between rows overrides this."""
        yield _OneByOne(self)
