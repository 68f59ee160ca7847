"""Pieces every problem service uses: the checks, the row lock and the timeline event."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django_fsm import can_proceed

from incidents.errors import InvalidTransition
from incidents.models import AssignmentGroup
from problems.models import Problem, ProblemEvent
from problems.services.webhooks import problem_event_emit
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import STAFF_ROLES, Membership, User

TRANSITIONS = ("investigate", "known_error", "resolve", "close", "cancel")
PAST = {
    "investigate": "put under investigation",
    "known_error": "recorded as a known error",
    "resolve": "resolved",
    "close": "closed",
    "cancel": "cancelled",
}


def check_staff(actor: Actor) -> None:
    """Problems are the desk's: agents and up (and the system) only."""
    if not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents work on problems.")


def check_owner(actor: Actor, owner: User | None) -> None:
    if owner is None:
        return
    member = Membership.objects.for_tenant(actor.tenant).filter(
        user=owner, is_active=True, role__in=STAFF_ROLES, user__is_active=True
    )
    if not member.exists():
        raise InvalidInput(f"{owner.email} is not an active agent of this desk.", field="owner")


def check_group(actor: Actor, group: AssignmentGroup | None) -> None:
    if group is not None and (group.tenant_id != actor.tenant.pk or not group.is_active):
        raise InvalidInput("Choose one of the desk's active groups.", field="group")


def required_text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(message, field=field)
    return text


def lock_problem(problem: Problem, *, actor: Actor) -> Problem:
    """Re-read the problem under a row lock, inside the actor's tenant."""
    return (
        Problem.objects.for_tenant(actor.tenant)
        .select_for_update(of=("self",))
        .select_related("priority", "owner", "group", "category")
        .get(pk=problem.pk)
    )


def allowed_transitions(problem: Problem) -> list[str]:
    return [name for name in TRANSITIONS if can_proceed(getattr(problem, name))]


def check_transition(problem: Problem, name: str) -> None:
    if not can_proceed(getattr(problem, name)):
        allowed = allowed_transitions(problem)
        raise InvalidTransition(
            f"{problem.reference} is {problem.get_state_display().lower()}; it cannot be "
            f"{PAST[name]} from there. Allowed now: {', '.join(allowed) or 'nothing (final)'}.",
            allowed=allowed,
        )


def record_problem_event(
    problem: Problem, *, actor: Actor, kind: str, **fields: Any
) -> ProblemEvent:
    """Write one line of the problem's timeline, in the transaction of its change."""
    assert transaction.get_connection().in_atomic_block, "events are written with their change"
    assert problem.tenant_id == actor.tenant.pk, "one tenant per event"
    event = ProblemEvent.objects.create(
        tenant_id=actor.tenant.pk, problem=problem, kind=kind, **fields, **actor.event_fields()
    )
    problem_event_emit(problem, event)
    return event
