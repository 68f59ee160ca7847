"""Canned responses: create, change and delete, the tenant's (admins) and an agent's own.

The scope of a response is fixed when it is made: a tenant-wide one stays the tenant's and a
personal one stays its owner's. A placeholder the desk does not know is refused by name, so a
typo ({requester_nmae}) is caught when the response is saved, not when it is sent.

The organisation's responses are configuration and their changes are audited (issue 17); an
agent's personal ones are that agent's own working notes, seen by nobody else, and are not.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import CannedResponse
from incidents.models.canned import PLACEHOLDERS, placeholders_in
from incidents.rules import check_admin
from incidents.services.audited import audit_change, shortened
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed

NAME_MAX = 100
# Inserted into a reply, whose limit is 20,000 characters: leave room for the agent's own text.
BODY_MAX = 10_000


def _check_may_change(actor: Actor, *, personal: bool, owner_id: int | None = None) -> None:
    if not personal:
        check_admin(actor, "change the organisation's canned responses")
        return
    if actor.user_id is None:
        raise NotAllowed(
            "A personal canned response belongs to a person: an API key manages only the "
            "organisation's canned responses."
        )
    if not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents have canned responses.")
    if owner_id is not None and owner_id != actor.user_id:
        raise NotAllowed("Only its owner can change a personal canned response.")


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the canned response a name.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"The name is limited to {NAME_MAX} characters.", field="name")
    return name


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write the text of the canned response.", field="body")
    if len(body) > BODY_MAX:
        raise InvalidInput(f"The text is limited to {BODY_MAX:,} characters.", field="body")
    unknown = [name for name in placeholders_in(body) if name not in PLACEHOLDERS]
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        named = ", ".join(f"{{{name}}}" for name in unknown)
        word = "placeholder" if len(unknown) == 1 else "placeholders"
        raise InvalidInput(f"Unknown {word} {named}. Use one of: {known}.", field="body")
    return body


def _save_unique(response: CannedResponse) -> None:
    """Save, turning a name already used by the same owner into a field error."""
    same_owner = CannedResponse.objects.for_tenant(response.tenant_id).filter(
        owner_id=response.owner_id, name__iexact=response.name
    )
    whose = "You already have" if response.is_personal else "The organisation already has"
    message = f"{whose} a canned response named “{response.name}”."
    if same_owner.exclude(pk=response.pk).exists():
        raise InvalidInput(message, field="name")
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the transaction usable
            response.save()
    except IntegrityError:
        raise InvalidInput(message, field="name") from None


@transaction.atomic
def canned_response_create(*, actor: Actor, name: str, body: str, personal: bool) -> CannedResponse:
    """A tenant-wide response (admins), or, with `personal`, one of the actor's own."""
    _check_may_change(actor, personal=personal)
    response = CannedResponse(
        tenant=actor.tenant,
        owner_id=actor.user_id if personal else None,
        name=_clean_name(name),
        body=_clean_body(body),
    )
    _save_unique(response)
    _audit(actor, "canned_response.created", response, {}, _words(response))
    return response


@transaction.atomic
def canned_response_update(
    *, actor: Actor, response: CannedResponse, name: str, body: str
) -> CannedResponse:
    locked = _locked(actor, response)
    before = _words(locked)
    locked.name, locked.body = _clean_name(name), _clean_body(body)
    locked.updated_at = timezone.now()
    _save_unique(locked)
    _audit(actor, "canned_response.changed", locked, before, _words(locked))
    return locked


@transaction.atomic
def canned_response_delete(*, actor: Actor, response: CannedResponse) -> None:
    locked = _locked(actor, response)
    before = _words(locked)
    locked.delete()
    _audit(actor, "canned_response.deleted", response, before, {})


def _words(response: CannedResponse) -> dict[str, str]:
    return {"name": response.name, "text": shortened(response.body)}


def _audit(
    actor: Actor,
    action: str,
    response: CannedResponse,
    before: dict[str, str],
    after: dict[str, str],
) -> None:
    if response.is_personal:
        return
    audit_change(
        actor=actor,
        action=action,
        target=response,
        target_label=response.name,
        before=before,
        after=after,
    )


def _locked(actor: Actor, response: CannedResponse) -> CannedResponse:
    """The row, locked, once the actor may change it; gone meanwhile or elsewhere: refused."""
    found = (
        CannedResponse.objects.for_tenant(actor.tenant)
        .select_for_update()
        .filter(pk=response.pk)
        .first()
    )
    if found is None:
        raise InvalidInput("This canned response no longer exists.")
    _check_may_change(actor, personal=found.is_personal, owner_id=found.owner_id)
    return found
