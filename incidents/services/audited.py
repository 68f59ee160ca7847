"""Words for the audit records of configuration changes (issue 17): a long text by its
beginning, a person by their name. The record itself is tenancy/audit.py's (`audit_change` keeps
only the fields that differ, and a save that changes nothing records nothing), written in the
caller's transaction so a refused change leaves no record. Used by the configuration services of
incidents, escalation, mail, imports and dashboards.
"""

from __future__ import annotations

from typing import Any

from tenancy.audit import audit_change, changed_fields

__all__ = ["audit_change", "changed_fields", "person", "shortened"]

TEXT_SHOWN = 200  # a long text (a canned response) is recorded by its beginning


def shortened(text: str, limit: int = TEXT_SHOWN) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def person(user: Any) -> str | None:
    """A person as the log names them; None for nobody."""
    if user is None:
        return None
    return getattr(user, "display_name", "") or getattr(user, "email", "") or str(user)
