"""Writes that show an incident's number, held back while a report is still unnumbered.

Numbers are gap-free, so taking one holds the tenant's counter row until commit and concurrent
reports queue on it. A report therefore does its work first and takes its number last, in the
same transaction; the emails and webhook payloads that show the number are written right after
it is taken. A leaf module, so that incidents and escalation code can both import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Waiting = list[tuple[Any, Callable[[], object]]]

_waiting: ContextVar[Waiting | None] = ContextVar("incident_numbering", default=None)


def when_numbered(incident: Any, write: Callable[[], object]) -> bool:
    """Run `write` now if the incident has its number, else once its report numbers it.

    Returns whether it ran now."""
    if incident.number is not None:
        write()
        return True
    waiting = _waiting.get()
    if waiting is None:  # only incident_report creates unnumbered incidents
        raise RuntimeError("An unnumbered incident outside the report that creates it.")
    waiting.append((incident, write))
    return False


@contextmanager
def numbering_later() -> Iterator[Callable[[int], None]]:
    """Collect the held-back writes; the caller numbers the incident with the function yielded,
    which gives every held-back copy of the incident its number and runs the writes in order."""
    waiting: Waiting = []
    token = _waiting.set(waiting)

    def number(value: int) -> None:
        _waiting.reset(token)
        for incident, _ in waiting:
            incident.number = value
        for _, write in waiting:
            write()

    try:
        yield number
    finally:
        if _waiting.get() is waiting:  # the body raised before numbering
            _waiting.reset(token)
