"""Linking incidents to their problem. Each link writes an event on both timelines; an
incident belongs to at most one problem."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from incidents.models import EventKind, Incident
from incidents.services.common import lock_incident, record_event
from problems.models import Problem, ProblemEventKind, ProblemLink
from problems.services.common import check_staff, lock_problem, record_problem_event
from tenancy.actors import Actor
from tenancy.errors import InvalidInput


def _linked_reason(problem: Problem) -> str:
    """What the incident's timeline says; a problem already fixed says so."""
    reason = f"Linked to problem {problem.reference}: {problem.title}"
    if problem.is_fixed:
        reason += (
            f". {problem.reference} is already resolved by change {problem.change_reference}: "
            f"{problem.fix}"
        )
    elif problem.is_known_error:
        reason += f". Known error; workaround: {problem.workaround}"
    return reason


def link_locked(problem: Problem, incident: Incident, *, actor: Actor) -> ProblemLink:
    """Link under the caller's lock on the problem (problem first, then incident: one order)."""
    if incident.tenant_id != actor.tenant.pk:
        raise InvalidInput("No such incident here.", field="incident")
    if problem.state == "cancelled":
        raise InvalidInput(f"{problem.reference} is cancelled; link to another problem.")
    incident = lock_incident(incident, actor=actor, expected_version=None)
    current = ProblemLink.objects.for_tenant(actor.tenant).filter(incident=incident).first()
    if current is not None:
        other = Problem.objects.for_tenant(actor.tenant).get(pk=current.problem_id)
        where = "this problem" if other.pk == problem.pk else other.reference
        raise InvalidInput(
            f"{incident.reference} is already linked to {where}; unlink it first.",
            field="incident",
        )
    link = ProblemLink.objects.create(tenant=actor.tenant, problem=problem, incident=incident)
    if problem.category_id is None and incident.category_id is not None:
        problem.category_id = incident.category_id
        problem.save(update_fields=["category"])
    _on_both_timelines(problem, incident, actor, ProblemEventKind.LINKED, _linked_reason(problem))
    return link


def _on_both_timelines(
    problem: Problem, incident: Incident, actor: Actor, kind: str, incident_reason: str
) -> None:
    """A link or unlink is a line on the problem's timeline and an internal one on the
    incident's (problems are the desk's business, not the requester's)."""
    record_problem_event(
        problem,
        actor=actor,
        kind=kind,
        reason=f"{incident.reference}: {incident.title}",
        data={"incident": incident.reference},
    )
    data = {"problem": problem.reference, "unlinked": kind == ProblemEventKind.UNLINKED}
    record_event(
        incident,
        actor=actor,
        kind=EventKind.LINKED,
        reason=incident_reason,
        data=data,
        public=False,
    )


@transaction.atomic
def problem_link_incident(*, problem: Problem, incident: Incident, actor: Actor) -> ProblemLink:
    check_staff(actor)
    return link_locked(lock_problem(problem, actor=actor), incident, actor=actor)


@transaction.atomic
def problem_link_incidents(
    *, problem: Problem, incidents: list[Incident], actor: Actor
) -> list[ProblemLink]:
    """Link several at once: all of them, or (one refused) none."""
    check_staff(actor)
    locked = lock_problem(problem, actor=actor)
    return [link_locked(locked, incident, actor=actor) for incident in incidents]


def link_row_action(actor: Actor, problem: Problem) -> Callable[[Incident, int], Incident]:
    """The desk's bulk "Link to problem": one row, one link (the row's version is not needed:
    a link changes no field of the incident)."""

    def run(incident: Incident, version: int) -> Incident:
        problem_link_incident(problem=problem, incident=incident, actor=actor)
        return incident

    return run


@transaction.atomic
def problem_unlink_incident(*, incident: Incident, actor: Actor) -> Problem:
    """Take the incident off its problem; returns the problem it was linked to."""
    check_staff(actor)
    link = ProblemLink.objects.for_tenant(actor.tenant).filter(incident=incident).first()
    if link is None:
        raise InvalidInput(f"{incident.reference} is not linked to a problem.", field="incident")
    problem = lock_problem(Problem(pk=link.problem_id), actor=actor)
    incident = lock_incident(incident, actor=actor, expected_version=None)
    ProblemLink.objects.for_tenant(actor.tenant).filter(pk=link.pk).delete()
    reason = f"Unlinked from problem {problem.reference}"
    _on_both_timelines(problem, incident, actor, ProblemEventKind.UNLINKED, reason)
    return problem
