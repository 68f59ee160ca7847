"""Logging a problem and one service per lifecycle transition. Each locks the row, checks the
state, moves it, saves with update_fields and writes exactly one event on the timeline."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.models import AssignmentGroup, Category, Incident
from incidents.services.priority import priority_derive
from problems.models import Problem, ProblemEventKind
from problems.services.common import (
    check_group,
    check_owner,
    check_staff,
    check_transition,
    lock_problem,
    record_problem_event,
    required_text,
)
from problems.services.links import link_locked
from tenancy.actors import Actor
from tenancy.errors import InvalidInput
from tenancy.models import User
from tenancy.services import counter_next

TITLE_MAX = Problem._meta.get_field("title").max_length or 200
CHANGE_MAX = Problem._meta.get_field("change_reference").max_length or 100


@transaction.atomic
def problem_log(
    *,
    actor: Actor,
    title: str,
    description: str = "",
    impact: str = "medium",
    urgency: str = "medium",
    owner: User | None = None,
    group: AssignmentGroup | None = None,
    category: Category | None = None,
    incidents: Iterable[Incident] = (),
) -> Problem:
    """Record a problem (logged), its priority from the tenant's matrix, and link `incidents`."""
    check_staff(actor)
    title = required_text(title, "title", "Give the problem a title.")
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"The title is at most {TITLE_MAX} characters.", field="title")
    check_owner(actor, owner)
    check_group(actor, group)
    if category is not None and category.tenant_id != actor.tenant.pk:
        raise InvalidInput("Choose one of the desk's categories.", field="category")
    level = priority_derive(tenant=actor.tenant, impact=impact, urgency=urgency)
    incidents = list(incidents)
    if category is None:
        category = next((i.category for i in incidents if i.category_id), None)
    problem = Problem(
        tenant=actor.tenant,
        title=title,
        description=(description or "").strip(),
        impact=impact,
        urgency=urgency,
        priority=level,
        owner=owner,
        group=group,
        category=category,
    )
    # Taken last: the counter's row stays locked until commit (gap-free numbers).
    problem.number = counter_next(tenant=actor.tenant, name="problem")
    problem.save(force_insert=True)
    record_problem_event(
        problem,
        actor=actor,
        kind=ProblemEventKind.LOGGED,
        to_state=problem.state,
        data={"priority": level.label},
    )
    for incident in incidents:
        link_locked(problem, incident, actor=actor)
    return problem


def apply_transition(
    problem: Problem,
    name: str,
    *,
    actor: Actor,
    changes: dict[str, Any],
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Problem:
    """Move the locked problem through `name`, save the changes and write the one event."""
    from_state = problem.state
    getattr(problem, name)()
    for field, value in changes.items():
        setattr(problem, field, value)
    problem.updated_at = timezone.now()
    problem.save(update_fields=["state", "updated_at", *changes])
    record_problem_event(
        problem,
        actor=actor,
        kind=ProblemEventKind.TRANSITION,
        transition=name,
        from_state=from_state,
        to_state=problem.state,
        reason=reason,
        data=data or {},
    )
    return problem


def lock_for_transition(problem: Problem, name: str, actor: Actor) -> Problem:
    check_staff(actor)
    locked = lock_problem(problem, actor=actor)
    check_transition(locked, name)
    return locked


@transaction.atomic
def problem_investigate(*, problem: Problem, actor: Actor, note: str = "") -> Problem:
    locked = lock_for_transition(problem, "investigate", actor)
    return apply_transition(locked, "investigate", actor=actor, changes={}, reason=note.strip())


@transaction.atomic
def problem_record_known_error(
    *, problem: Problem, actor: Actor, root_cause: str, workaround: str
) -> Problem:
    """A known error: the root cause is understood and a workaround restores service."""
    root_cause = required_text(root_cause, "root_cause", "Record the root cause.")
    workaround = required_text(
        workaround, "workaround", "Record the workaround agents can apply meanwhile."
    )
    locked = lock_for_transition(problem, "known_error", actor)
    return apply_transition(
        locked,
        "known_error",
        actor=actor,
        changes={
            "root_cause": root_cause,
            "workaround": workaround,
            "known_error_at": timezone.now(),
        },
        data={"root_cause": root_cause, "workaround": workaround},
    )


@transaction.atomic
def problem_close(*, problem: Problem, actor: Actor, note: str = "") -> Problem:
    locked = lock_for_transition(problem, "close", actor)
    return apply_transition(
        locked, "close", actor=actor, changes={"closed_at": timezone.now()}, reason=note.strip()
    )


@transaction.atomic
def problem_cancel(*, problem: Problem, actor: Actor, reason: str) -> Problem:
    reason = required_text(reason, "reason", "Say why the problem is cancelled.")
    locked = lock_for_transition(problem, "cancel", actor)
    return apply_transition(
        locked,
        "cancel",
        actor=actor,
        changes={"cancel_reason": reason, "cancelled_at": timezone.now()},
        reason=reason,
    )


def check_fix(fix: str, change_reference: str) -> tuple[str, str]:
    fix = required_text(fix, "fix", "Describe the fix that removed the root cause.")
    change = required_text(
        change_reference, "change_reference", "Give the reference of the change that fixed it."
    )
    if len(change) > CHANGE_MAX:
        raise InvalidInput(
            f"The change reference is at most {CHANGE_MAX} characters.", field="change_reference"
        )
    return fix, change
