"""Refusals a person or an integration can act on. Views turn them into messages, never 500s."""

from __future__ import annotations


class IncidentError(Exception):
    """A refused operation with a message fit to show to the person who tried it."""

    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(IncidentError):
    """The actor's role or relation to the incident does not permit this."""

    code = "forbidden"


class InvalidTransition(IncidentError):
    """The transition does not start from the incident's current state."""

    code = "invalid_transition"

    def __init__(self, message: str, *, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []


class StaleIncident(IncidentError):
    """Someone else changed the incident since the actor loaded it."""

    code = "conflict"

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version


class InvalidInput(IncidentError):
    """A value is missing or wrong; `field` names it when there is one."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FileTooLarge(InvalidInput):
    """An attachment over ATTACHMENT_MAX_BYTES (the API answers 413)."""


class FileTypeRefused(InvalidInput):
    """An attachment of a type not in ATTACHMENT_ALLOWED_TYPES (the API answers 415)."""
