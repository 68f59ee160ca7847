"""Who may do what to an incident: the table of docs/design.md, in one place.

Views ask `allowed_transitions` to show buttons; services call `check_transition` before acting,
so a refused button and a refused API call say the same thing.
"""

from __future__ import annotations

from django_fsm import can_proceed

from incidents.errors import InvalidTransition
from incidents.models import GroupMember, Incident, IncidentContact, Participant
from tenancy.actors import Actor
from tenancy.errors import NotAllowed

TRANSITIONS = ("escalate", "accept", "hold", "resume", "resolve", "reopen", "close", "cancel")
SYSTEM_TRANSITIONS = {"escalate", "hold", "resume", "resolve", "close"}
# The system acting for a parent incident (services/parent.py, role "parent") also reopens the
# children the parent resolved, when the parent is reopened.
PARENT_TRANSITIONS = SYSTEM_TRANSITIONS | {"reopen"}
REPORTER_TRANSITIONS = {"reopen", "close"}


def is_reporter(actor: Actor, incident: Incident) -> bool:
    """The member who reported it, or, for an incident reported for someone without an account,
    that contact (by address)."""
    if actor.kind == "contact":
        contact = (incident.contact_email or "").lower()
        return incident.reporter_id is None and bool(contact) and actor.email == contact
    return actor.user_id is not None and actor.user_id == incident.reporter_id


def is_incident_contact(incident: Incident, address: str) -> bool:
    """Whether this address follows the incident by mail without an account: the contact it was
    reported for, or an affected contact (IncidentContact)."""
    address = (address or "").strip().lower()
    if not address:
        return False
    if (incident.contact_email or "").lower() == address:
        return True
    return (
        IncidentContact.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, email=address)
        .exists()
    )


def takes_part(actor: Actor, incident: Incident) -> bool:
    """Whether the actor may reply on the incident: the desk, its reporter, an affected member
    (Participant) or an affected contact (IncidentContact)."""
    if actor.is_agent_or_above or is_reporter(actor, incident):
        return True
    if actor.kind == "contact":
        return (
            IncidentContact.objects.for_tenant(incident.tenant_id)
            .filter(incident=incident, email=actor.email)
            .exists()
        )
    if actor.user_id is None:
        return False
    return (
        Participant.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, user_id=actor.user_id)
        .exists()
    )


def may_take(incident: Incident, user_id: int | None) -> bool:
    """Whether this user may become the incident's assignee without a manager: they hold it
    already, or they belong to its group. With neither group nor assignee, any agent may."""
    if user_id is None:
        return False
    if incident.assignee_id == user_id:
        return True
    if incident.group_id is None:
        return incident.assignee_id is None
    return GroupMember.objects.filter(
        tenant_id=incident.tenant_id, group_id=incident.group_id, user_id=user_id
    ).exists()


def is_group_agent(actor: Actor, incident: Incident) -> bool:
    return may_take(incident, actor.user_id)


def _role_refusal(actor: Actor, incident: Incident, name: str, on_reporters_word: bool) -> str:
    """The reason this actor may not do this, or '' when they may."""
    if actor.is_system:
        allowed = PARENT_TRANSITIONS if actor.role == "parent" else SYSTEM_TRANSITIONS
        return "" if name in allowed else f"the system does not {name} incidents"
    if name in REPORTER_TRANSITIONS and is_reporter(actor, incident):
        return ""  # the reporter's own word, whatever their role
    if actor.is_requester:
        if name in REPORTER_TRANSITIONS:
            return f"only its reporter or the desk's agents can {name} it"
        return f"only the desk's agents can {name} it"
    if name == "accept" and not actor.is_manager:
        if actor.kind == "integration":
            return ""  # the integration names the assignee, who is checked instead
        if not is_group_agent(actor, incident):
            return "only an agent of the incident's group or a manager can accept it"
    if name == "close" and not on_reporters_word:
        return "an agent closes an incident only on the reporter's word"
    return ""


def check_transition(
    actor: Actor, incident: Incident, name: str, *, on_reporters_word: bool = False
) -> None:
    """Raise NotAllowed or InvalidTransition unless `actor` may run `name` on `incident` now."""
    refusal = _role_refusal(actor, incident, name, on_reporters_word)
    if refusal:
        raise NotAllowed(f"You cannot {name} {incident.reference}: {refusal}.")
    if not can_proceed(getattr(incident, name)):
        allowed = state_transitions(incident)
        raise InvalidTransition(
            f"{incident.reference} is {incident.get_state_display().lower()}; it cannot be "
            f"{_past(name)} from there. Allowed now: {', '.join(allowed) or 'nothing (final)'}.",
            allowed=allowed,
        )


def state_transitions(incident: Incident) -> list[str]:
    return [name for name in TRANSITIONS if can_proceed(getattr(incident, name))]


def allowed_transitions(actor: Actor, incident: Incident) -> list[str]:
    """Transitions this actor may run now (close counts as allowed on the reporter's word)."""
    return [
        name
        for name in state_transitions(incident)
        if not _role_refusal(actor, incident, name, on_reporters_word=True)
    ]


def _past(name: str) -> str:
    return {
        "escalate": "escalated",
        "accept": "accepted",
        "hold": "put on hold",
        "resume": "resumed",
        "resolve": "resolved",
        "reopen": "reopened",
        "close": "closed",
        "cancel": "cancelled",
    }[name]


def check_staff(actor: Actor, what: str) -> None:
    if not actor.is_agent_or_above:
        raise NotAllowed(f"Only the desk's agents can {what}.")


def check_admin(actor: Actor, what: str) -> None:
    """Configuration is the tenant admins' (and the system's)."""
    if actor.role not in ("admin", "system"):
        raise NotAllowed(f"Only a tenant admin can {what}.")
