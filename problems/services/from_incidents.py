"""A problem made from a group of incidents (a cluster of the candidates page): logged through
problem_log, then each incident still unlinked linked through the link service. An incident
someone linked to another problem meanwhile is counted and left where it is, not refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from incidents.models import Category, Incident, Level
from problems.models import Problem, ProblemLink
from problems.services.common import check_staff
from problems.services.lifecycle import TITLE_MAX, problem_log
from problems.services.links import link_locked
from tenancy.actors import Actor
from tenancy.errors import InvalidInput

# Highest first: the problem takes the worst impact and urgency its incidents report.
LEVELS = (Level.HIGH, Level.MEDIUM, Level.LOW)


@dataclass
class ProblemFromIncidents:
    problem: Problem
    linked: list[str] = field(default_factory=list)  # incident references
    already_linked: list[str] = field(default_factory=list)


def highest(levels: set[str]) -> str:
    return next((level for level in LEVELS if level in levels), Level.MEDIUM)


@transaction.atomic
def problem_log_from_incidents(
    *, actor: Actor, title: str, category: Category | None, incidents: list[Incident]
) -> ProblemFromIncidents:
    """Log the problem and link every incident not yet linked; refuse (and create nothing) when
    all of them already are."""
    check_staff(actor)
    taken = set(
        ProblemLink.objects.for_tenant(actor.tenant)
        .filter(incident__in=[i.pk for i in incidents])
        .values_list("incident_id", flat=True)
    )
    free = [i for i in incidents if i.pk not in taken]
    if not free:
        raise InvalidInput(
            f"All {len(incidents)} incidents are already linked to a problem; nothing was created."
        )
    problem = problem_log(
        actor=actor,
        title=(title or "").strip()[:TITLE_MAX],
        category=category,
        impact=highest({i.impact for i in free}),
        urgency=highest({i.urgency for i in free}),
    )
    outcome = ProblemFromIncidents(
        problem, already_linked=[i.reference for i in incidents if i.pk in taken]
    )
    for incident in sorted(free, key=lambda i: i.pk):  # one lock order for every linker
        try:
            with transaction.atomic():  # linked since the read above: the link service says so
                link_locked(problem, incident, actor=actor)
        except InvalidInput:
            outcome.already_linked.append(incident.reference)
        else:
            outcome.linked.append(incident.reference)
    if not outcome.linked:
        raise InvalidInput(
            f"All {len(incidents)} incidents were linked to a problem meanwhile; nothing was "
            "created."
        )
    return outcome
