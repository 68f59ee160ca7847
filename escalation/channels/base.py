from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

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


class Transport(ABC):
    @abstractmethod
    def notify(self, notification: Notification) -> None:
        """Deliver once; raise TransportError (permanent=True when retrying cannot help)."""
