"""The incident's own refusals, on top of the base ones of tenancy.errors."""

from __future__ import annotations

from typing import Any

from tenancy.errors import Conflict, InvalidInput


class InvalidTransition(Conflict):
    """The transition does not start from the incident's current state."""

    code = "invalid_transition"
    problem_type = "invalid-transition"

    def __init__(self, message: str, *, allowed: list[str] | None = None) -> None:
        super().__init__(message)
        self.allowed = allowed or []

    def problem_extra(self) -> dict[str, Any]:
        return {"allowed": self.allowed}


class StaleIncident(Conflict):
    """Someone else changed the incident since the actor loaded it."""

    problem_type = "stale"

    def __init__(self, message: str, *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version

    def problem_status(self, request: Any) -> int:
        # A client that named the version it read (If-Match) gets HTTP's own answer for it.
        if request is not None and request.headers.get("If-Match"):
            return 412
        return 409


class FileTooLarge(InvalidInput):
    """An attachment over ATTACHMENT_MAX_BYTES (the API answers 413)."""

    status = 413


class FileTypeRefused(InvalidInput):
    """An attachment of a type not in ATTACHMENT_ALLOWED_TYPES (the API answers 415)."""

    status = 415
