"""Refusals: an operation turned down, with a message fit to show to whoever tried it.

Every app raises these or its own subclasses (incidents.errors, escalation's InUse). Pages put
`message` next to the form; the API answers problem+json (tenancy/api/errors.py) with the
refusal's own `status`, `problem_type` and extra members, so the API needs no list of them.
"""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """A refused operation with a message fit to show to the person who tried it."""

    code = "refused"
    status = 400
    problem_type = ""  # "" is the status's own type (invalid-request for 400)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def problem_status(self, request: Any) -> int:
        return self.status

    def problem_extra(self) -> dict[str, Any]:
        return {}

    def problem_headers(self) -> dict[str, str]:
        return {}


class NotAllowed(Refusal):
    """The actor's role or relation to the object does not permit this."""

    code = "forbidden"
    status = 403
    problem_type = "forbidden"


class InvalidInput(Refusal):
    """A value is missing or wrong; `field` names it when there is one."""

    code = "invalid"
    problem_type = "validation"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def problem_extra(self) -> dict[str, Any]:
        return {"errors": {self.field or "non_field_errors": [self.message]}}


class Conflict(Refusal):
    """The object is not in a state that allows this now."""

    code = "conflict"
    status = 409


class LinkRefused(Refusal):
    """A genuine emailed link (invitation, sign-up confirmation) that no longer works, and why."""

    code = "link_refused"
