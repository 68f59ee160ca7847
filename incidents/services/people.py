"""Affected people: members who join an incident they did not report, and contacts without an
account added by their address."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from incidents.models import EventKind, Incident, IncidentContact, IncidentEvent, Participant
from incidents.rules import takes_part
from incidents.services.common import check_member, event_row, lock_incident, save_incident
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import User

NAME_MAX = 150


def _check_joiner(actor: Actor, user: User) -> None:
    if actor.is_requester and actor.user_id != user.pk:
        raise NotAllowed("You can only add yourself to an incident.")
    check_member(actor, user, field="user")


@transaction.atomic
def incident_join(*, incident: Incident, actor: Actor, user: User) -> bool:
    """Add `user` as affected; returns False when they already follow it (reporter included)."""
    _check_joiner(actor, user)
    locked = lock_incident(incident, actor=actor, expected_version=None)
    if not locked.is_open:
        raise InvalidInput(f"{locked.reference} is no longer open; report a new incident.")
    joined = _join(locked, actor, [user], None)
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return joined == 1


@transaction.atomic
def incident_join_all(
    *,
    incident: Incident,
    actor: Actor,
    users: list[User],
    via: Incident,
    contacts: Sequence[tuple[str, str]] = (),
) -> int:
    """The people of a cancelled duplicate (`via`), already checked to be active members, join
    the original, and its contacts ((address, name), already checked) become the original's
    contacts: one lock and one write of it however many they are. Returns how many were added."""
    locked = lock_incident(incident, actor=actor, expected_version=None)
    joined = _join(locked, actor, users, via, save=False)
    joined += _add_contacts(locked, actor, contacts, via, save=False)
    if joined:
        save_incident(locked, ["affected_count"])  # moves the version like any write
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return joined


def _join(
    locked: Incident, actor: Actor, users: list[User], via: Incident | None, save: bool = True
) -> int:
    """Add those of `users` not following the locked incident yet, each with a `joined` event."""
    following = set(
        Participant.objects.for_tenant(locked.tenant_id)
        .filter(incident=locked, user__in=users)
        .values_list("user_id", flat=True)
    )
    new = [u for u in users if u.pk != locked.reporter_id and u.pk not in following]
    if not new:
        return 0
    # The row is locked, so nobody else adds people meanwhile and counting in Python is safe.
    Participant.objects.bulk_create(
        Participant(tenant_id=locked.tenant_id, incident=locked, user=user) for user in new
    )
    locked.affected_count += len(new)
    if save:
        save_incident(locked, ["affected_count"])  # moves the version like any write
    IncidentEvent.objects.bulk_create(
        event_row(
            actor=actor,
            incident=locked,
            kind=EventKind.JOINED,
            data={"user": user.email, "via": via.reference if via else None},
            reason=f"{user.display_name} is affected too",
        )
        for user in new
    )
    return len(new)


def _clean_address(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            f"{email[:100] or 'An empty address'} is not an email address.", field="email"
        ) from None
    if len(email) > 254:
        raise InvalidInput("An email address is at most 254 characters.", field="email")
    return email


@transaction.atomic
def incident_contact_add(*, incident: Incident, actor: Actor, email: str, name: str = "") -> bool:
    """Add someone without an account as affected by the incident, by their address: they get
    its emails, with a link to follow it, and may reply. The desk, the system (mail intake) and
    the people taking part may add one.

    Returns False when the address follows it already: an affected contact, the reporter's or
    the reporting contact's own address, or an affected member's."""
    email = _clean_address(email)
    # A display name from a mail header can be anything; it is only shown, so it is cut, never
    # a reason to refuse the person.
    name = " ".join((name or "").split())[:NAME_MAX]
    locked = lock_incident(incident, actor=actor, expected_version=None)
    if not takes_part(actor, locked):
        raise NotAllowed("You can only add people to incidents you reported or joined.")
    if not locked.is_open:
        raise InvalidInput(f"{locked.reference} is no longer open; report a new incident.")
    added = _add_contacts(locked, actor, [(email, name)], None)
    incident.refresh_from_db(fields=["affected_count", "version", "updated_at"])
    return added == 1


def _following_addresses(locked: Incident, addresses: list[str]) -> set[str]:
    """Which of these (lower-case) addresses already follow the locked incident."""
    own = {(locked.contact_email or "").lower()}
    if locked.reporter_id:
        own.add(locked.reporter.email.lower())
    contacts = IncidentContact.objects.for_tenant(locked.tenant_id).filter(
        incident=locked, email__in=addresses
    )
    members = (
        Participant.objects.for_tenant(locked.tenant_id)
        .filter(incident=locked)
        .values_list("user__email", flat=True)
    )
    return (
        own
        | set(contacts.values_list("email", flat=True))
        | {m.lower() for m in members if m.lower() in addresses}
    )


def _add_contacts(
    locked: Incident,
    actor: Actor,
    contacts: Sequence[tuple[str, str]],
    via: Incident | None,
    save: bool = True,
) -> int:
    """Add those of the (address, name) pairs not following the locked incident yet, each with
    a `joined` event, as members join."""
    wanted: dict[str, str] = {}
    for address, name in contacts:
        wanted.setdefault(address.lower(), name)
    following = _following_addresses(locked, list(wanted))
    new = [(a, n) for a, n in wanted.items() if a and a not in following]
    if not new:
        return 0
    # The row is locked, so nobody else adds people meanwhile: the unique index never trips.
    IncidentContact.objects.bulk_create(
        IncidentContact(tenant_id=locked.tenant_id, incident=locked, email=a, name=n)
        for a, n in new
    )
    locked.affected_count += len(new)
    if save:
        save_incident(locked, ["affected_count"])
    IncidentEvent.objects.bulk_create(
        event_row(
            actor=actor,
            incident=locked,
            kind=EventKind.JOINED,
            data={"contact": a, "via": via.reference if via else None},
            reason=f"{n or a} is affected too",
        )
        for a, n in new
    )
    return len(new)
