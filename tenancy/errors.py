"""Refusals of the people operations. They are IncidentErrors so views show them the same way."""

from __future__ import annotations

from incidents.errors import IncidentError, InvalidInput, NotAllowed

__all__ = ["InvalidInput", "LinkRefused", "NotAllowed"]


class LinkRefused(IncidentError):
    """An emailed link (invitation, sign-up confirmation) that cannot be used, and why."""

    code = "link_refused"
