"""@mentions in internal notes: who a note names.

The syntax is plain text: `@` and a member's email address (`@alice@acme.test`), or `@` and the
part of it before the `@` (`@alice`) when no other member of the desk's staff shares it. Only
the tenant's active agents, managers and admins can be mentioned: a requester cannot read
internal notes, so naming one tells nobody, and nor does a name that fits two people or none.
An address in running text ("write to alice@acme.test") is not a mention: the `@` must start a
word.
"""

from __future__ import annotations

import re

from django.db.models import Q

from tenancy.models import STAFF_ROLES, Membership, User

# `@` at the start of a word, then an email address or its local part; a trailing full stop or
# comma belongs to the sentence, not the name.
MENTION = re.compile(r"(?<![\w.+@-])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")


def mention_names(text: str) -> list[str]:
    """The names written after `@`, lower-cased, once each, in order."""
    names: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".").lower()
        if name and name not in names:
            names.append(name)
    return names


def mentioned_staff(tenant_id: int, text: str) -> list[User]:
    """The active staff members of the tenant a note mentions (one query, none without `@`)."""
    names = mention_names(text)
    if not names:
        return []
    wanted = Q()
    for name in names:
        wanted |= Q(email__iexact=name) if "@" in name else Q(email__istartswith=f"{name}@")
    staff = Membership.objects.for_tenant(tenant_id).filter(is_active=True, role__in=STAFF_ROLES)
    candidates = list(
        User.objects.filter(wanted, is_active=True, id__in=staff.values("user_id")).order_by("id")
    )
    found: list[User] = []
    for name in names:
        if "@" in name:
            fits = [u for u in candidates if u.email.lower() == name]
        else:
            fits = [u for u in candidates if u.email.lower().split("@", 1)[0] == name]
        if len(fits) == 1 and fits[0] not in found:  # two people share it: ask for the address
            found.append(fits[0])
    return found
