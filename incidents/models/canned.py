"""Canned responses: reply templates an agent inserts into a public reply or an internal note.

A response with no owner is the tenant's (admins keep them); one with an owner is that agent's
own, seen by nobody else. Placeholders are `{name}` (or `{{name}}`), filled by plain string
substitution from the incident (incidents/selectors/canned.py): the text is never run as a
template, so nothing typed here can reach code or other data.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from tenancy.models import TenantOwned

# The placeholders a response may use, and what each becomes; the settings pages and the API
# documentation list them from here.
PLACEHOLDERS: dict[str, str] = {
    "requester_name": "the reporter's name (or the contact's, for someone without an account)",
    "requester_first_name": "the first word of the reporter's name",
    "requester_email": "the reporter's email address",
    "number": "the incident's number, e.g. INC-000042",
    "title": "the incident's title",
    "state": "the incident's state, e.g. In progress",
    "priority": "the incident's priority, as the desk names it",
    "category": "the incident's category",
    "group": "the assignment group",
    "assignee_name": "the agent the incident is assigned to",
    "agent_name": "the name of the agent inserting the response",
    "agent_first_name": "the first word of that agent's name",
    "organisation": "the name of your organisation on the desk",
}

# `{name}` or `{{ name }}`: the double form is what people used to other desks type first.
PLACEHOLDER_RE = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_.]*)\}"
)


def placeholders_in(text: str) -> list[str]:
    """The placeholder names the text uses, in order, each once."""
    names = [m.group(1) or m.group(2) for m in PLACEHOLDER_RE.finditer(text or "")]
    return list(dict.fromkeys(names))


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """The text with every known placeholder replaced by its value; unknown ones stay as typed."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values[name] if name in values else match.group(0)

    return PLACEHOLDER_RE.sub(one, text or "")


class CannedResponse(TenantOwned):
    name = models.CharField(max_length=100)
    body = models.TextField()
    # None: the tenant's, offered to every agent; a user: that agent's own.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            # Names are unique per owner, ignoring case: "Thanks" and "thanks" would confuse.
            models.UniqueConstraint(
                "tenant",
                Lower("name"),
                condition=models.Q(owner__isnull=True),
                name="canned_unique_tenant_name",
            ),
            models.UniqueConstraint(
                "tenant",
                "owner",
                Lower("name"),
                condition=models.Q(owner__isnull=False),
                name="canned_unique_personal_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.owner_id is not None

    @property
    def scope(self) -> str:
        return "personal" if self.is_personal else "tenant"
