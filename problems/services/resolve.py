"""Resolving a problem: the fix and its change, and, if the owner chooses, its open incidents
resolved through the incidents' own resolve service (each reporter asked to confirm)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentState, ResolutionCode
from incidents.models.incident import OPEN_STATES
from incidents.services.config import resolution_code_create, resolution_code_reactivate
from incidents.services.transitions import incident_escalate, incident_resolve
from problems.models import Problem
from problems.services.lifecycle import apply_transition, check_fix, lock_for_transition
from tenancy.actors import Actor
from tenancy.errors import Refusal

SOLVED_SLUG = "solved-permanently"
SOLVED_LABEL = "Solved (permanently)"


@dataclass
class ProblemResolution:
    problem: Problem
    resolved: list[str] = field(default_factory=list)  # incident references
    failed: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)


@transaction.atomic
def problem_resolve(
    *,
    problem: Problem,
    actor: Actor,
    fix: str,
    change_reference: str,
    resolve_incidents: bool = False,
) -> ProblemResolution:
    """Record the fix; with `resolve_incidents`, resolve each open linked incident too, each in
    its own savepoint so one refused incident is reported and the others still resolved."""
    fix, change = check_fix(fix, change_reference)
    locked = lock_for_transition(problem, "resolve", actor)
    resolved = apply_transition(
        locked,
        "resolve",
        actor=actor,
        changes={"fix": fix, "change_reference": change, "resolved_at": timezone.now()},
        data={"change_reference": change, "resolve_incidents": resolve_incidents},
    )
    outcome = ProblemResolution(problem=resolved)
    if resolve_incidents:
        _resolve_incidents(resolved, actor, outcome)
    return outcome


def solved_code(actor: Actor) -> ResolutionCode:
    """The tenant's "Solved (permanently)", created (or reactivated) by the system if lacking."""
    system = Actor.system(actor.tenant, "Problem management")
    code = ResolutionCode.objects.for_tenant(actor.tenant).filter(slug=SOLVED_SLUG).first()
    if code is None:
        return resolution_code_create(actor=system, label=SOLVED_LABEL, slug=SOLVED_SLUG)
    if not code.is_active:
        return resolution_code_reactivate(actor=system, code=code)
    return code


def _resolve_incidents(problem: Problem, actor: Actor, outcome: ProblemResolution) -> None:
    incidents = list(
        Incident.objects.for_tenant(actor.tenant)
        .filter(problem_link__problem=problem, state__in=OPEN_STATES)
        .select_related("group")
        .order_by("pk")
    )
    if not incidents:
        return
    code = solved_code(actor)
    notes = f"Fixed by {problem.reference} (change {problem.change_reference}): {problem.fix}"
    for incident in incidents:
        try:
            with transaction.atomic():
                _resolve_one(problem, incident, actor, code, notes)
        except Refusal as exc:
            outcome.failed.append((incident.reference, exc.message))
        else:
            outcome.resolved.append(incident.reference)


def _resolve_one(
    problem: Problem, incident: Incident, actor: Actor, code: ResolutionCode, notes: str
) -> None:
    if incident.state == IncidentState.REPORTED:
        # Only an incident in the desk's hands resolves: hand it over first, without a mail
        # (the resolution's mail follows at once).
        group = incident.group or problem.group
        incident = incident_escalate(
            incident=incident,
            actor=actor,
            group=group,
            assignee=None if group else actor.user,
            reason=f"Resolved with problem {problem.reference}",
            notify=False,
        )
    incident_resolve(incident=incident, actor=actor, resolution_code=code, resolution_notes=notes)
