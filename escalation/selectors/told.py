"""Reads for telling people: who follows an incident, and which mails a member wants."""

from __future__ import annotations

from collections.abc import Iterable

from escalation.models import IncidentWatcher, MailPreferences
from incidents.models import Incident
from tenancy.models import Membership, User


def watchers_of(incident: Incident) -> list[User]:
    """The people following an incident, in the order they started."""
    rows = (
        IncidentWatcher.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident)
        .select_related("user")
        .order_by("created_at", "id")
    )
    return [row.user for row in rows]


def mail_preferences_for(membership: Membership) -> MailPreferences:
    """The member's choices; an unsaved row with every kind on when they never chose."""
    found = (
        MailPreferences.objects.for_tenant(membership.tenant_id)
        .filter(membership=membership)
        .first()
    )
    return found or MailPreferences(tenant_id=membership.tenant_id, membership=membership)


def mail_takers(tenant_id: int, kinds: dict[int, Iterable[str]]) -> set[int]:
    """Of these users (id -> the MailKind values a mail is for), those who take the mail: any
    of its kinds switched on. One query; a member who never chose takes every kind."""
    if not kinds:
        return set()
    choices = {
        p.membership.user_id: p
        for p in MailPreferences.objects.for_tenant(tenant_id)
        .filter(membership__user_id__in=list(kinds))
        .select_related("membership")
    }
    return {
        user_id
        for user_id, wanted in kinds.items()
        if user_id not in choices or any(choices[user_id].wants(k) for k in wanted)
    }
