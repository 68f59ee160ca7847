"""Reads of problems with business meaning: who may see them, their incidents in figures, the
problem of an incident and the known errors a new incident looks like."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, Q, QuerySet, When
from django.http import Http404

from incidents.models import Incident, IncidentContact, Participant
from incidents.models.incident import OPEN_STATES
from problems.models import (
    OPEN_PROBLEM_STATES,
    Problem,
    ProblemEvent,
    ProblemLink,
    ProblemState,
)
from tenancy.actors import Actor
from tenancy.models import Tenant

PROBLEM_RELATED = ("priority", "owner", "group", "category")
PROBLEM_REFERENCE = re.compile(r"^\s*(?:PRB-?)?0*(\d{1,9})\s*$", re.IGNORECASE)
# How alike two titles must be (shared words over all words) to offer a known error.
SIMILAR_TITLES = 0.4
OFFER_CANDIDATES = 20
_WORD = re.compile(r"[a-z0-9]+")
# Words that make any two titles look alike.
_STOP = frozenset(("a", "an", "and", "the", "of", "to", "in", "on", "for", "is", "it", "at"))


def parse_problem_reference(text: str) -> int | None:
    match = PROBLEM_REFERENCE.match(text or "")
    return int(match.group(1)) if match else None


def problems_for_actor(*, actor: Actor) -> QuerySet[Problem]:
    """The tenant's problems, for the desk only: anyone else sees none (and pages give 404)."""
    if not actor.is_agent_or_above:
        return Problem.objects.none()
    return Problem.objects.for_tenant(actor.tenant).select_related(*PROBLEM_RELATED)


def problem_for_actor(*, actor: Actor, number: int | None) -> Problem:
    """The problem of that number if the actor may see it; the same 404 otherwise."""
    problem = None
    if number is not None:
        problem = problems_for_actor(actor=actor).filter(number=number).first()
    if problem is None:
        raise Http404("No such problem here.")
    return problem


def problem_list(*, actor: Actor, state: str = "") -> QuerySet[Problem]:
    """The list page: open problems unless a state is asked for, each with its incident counts."""
    problems = problems_for_actor(actor=actor)
    if state in ProblemState.values:
        problems = problems.filter(state=state)
    elif state != "all":
        problems = problems.filter(state__in=OPEN_PROBLEM_STATES)
    return problems.annotate(
        incident_count=Count("links"),
        open_count=Count("links", filter=Q(links__incident__state__in=OPEN_STATES)),
    ).order_by("-number")


@dataclass(frozen=True)
class ProblemIncidents:
    incidents: list[Incident]
    open_count: int
    affected: int  # distinct people: reporters, affected members and contacts
    first_at: datetime | None
    last_at: datetime | None


def problem_incidents(problem: Problem) -> ProblemIncidents:
    """The problem's incidents and what they add up to, in a fixed number of queries."""
    incidents = list(
        Incident.objects.for_tenant(problem.tenant_id)
        .filter(problem_link__problem=problem)
        .select_related("priority", "assignee", "reporter")
        .order_by("reported_at", "id")
    )
    ids = [i.pk for i in incidents]
    people = {f"u{i.reporter_id}" for i in incidents if i.reporter_id}
    people |= {
        f"c{i.contact_email.lower()}" for i in incidents if not i.reporter_id and i.contact_email
    }
    people |= {
        f"u{u}"
        for u in Participant.objects.for_tenant(problem.tenant_id)
        .filter(incident_id__in=ids)
        .values_list("user_id", flat=True)
    }
    people |= {
        f"c{e}"
        for e in IncidentContact.objects.for_tenant(problem.tenant_id)
        .filter(incident_id__in=ids)
        .values_list("email", flat=True)
    }
    return ProblemIncidents(
        incidents=incidents,
        open_count=sum(1 for i in incidents if i.is_open),
        affected=len(people),
        first_at=incidents[0].reported_at if incidents else None,
        last_at=max((i.reported_at for i in incidents), default=None),
    )


def problem_timeline(problem: Problem) -> list[ProblemEvent]:
    return list(ProblemEvent.objects.for_tenant(problem.tenant_id).filter(problem=problem))


def incident_problem(*, actor: Actor, incident: Incident) -> Problem | None:
    """The problem the incident is linked to, if any (and if the actor may see problems). No
    query when the incident was read with `select_related("problem_link__problem")`."""
    if not actor.is_agent_or_above:
        return None
    try:
        link = incident.problem_link  # type: ignore[attr-defined]
    except ProblemLink.DoesNotExist:
        return None
    assert link.tenant_id == actor.tenant.pk, "a link lives in its incident's tenant"
    return link.problem


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall((text or "").lower()) if w not in _STOP and len(w) > 1}


def title_similarity(a: str, b: str) -> float:
    """Shared words over all words of the two titles (Jaccard), 0 to 1."""
    left, right = _words(a), _words(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def known_error_offers(*, actor: Actor, incident: Incident) -> list[Problem]:
    """Known errors a new, unlinked incident looks like: the same category and a similar title
    (the problem's, or one of its incidents'). Two queries, however many problems exist."""
    if not incident.is_open or incident.category_id is None:
        return []
    candidates = list(
        problems_for_actor(actor=actor)
        .filter(state=ProblemState.KNOWN_ERROR, category_id=incident.category_id)
        .order_by("-known_error_at")[:OFFER_CANDIDATES]
    )
    if not candidates:
        return []
    titles: dict[int, list[str]] = {p.pk: [p.title] for p in candidates}
    linked = Incident.objects.for_tenant(actor.tenant).filter(problem_link__problem__in=candidates)
    for problem_id, title in linked.values_list("problem_link__problem_id", "title"):
        titles[problem_id].append(title)
    return [
        p
        for p in candidates
        if max(title_similarity(incident.title, t) for t in titles[p.pk]) >= SIMILAR_TITLES
    ]


@dataclass(frozen=True)
class IncidentProblemPanel:
    """What the desk's incident page shows of problems (problems/_incident_panel.html)."""

    problem: Problem | None
    offers: list[Problem]  # known errors it looks like, while it has no problem
    typed: str  # a refused problem number, back in its field
    reply_text: str  # the workaround to put in the public reply ("Link and apply")


def incident_problem_panel(
    *, actor: Actor, incident: Incident, typed: str = "", apply: bool = False
) -> IncidentProblemPanel:
    problem = incident_problem(actor=actor, incident=incident)
    offers = [] if problem else known_error_offers(actor=actor, incident=incident)
    reply = ""
    if apply and problem is not None and problem.workaround and incident.is_open:
        reply = problem.workaround
    return IncidentProblemPanel(problem=problem, offers=offers, typed=typed[:20], reply_text=reply)


def problem_of_incident(*, tenant: Tenant | int, incident: Incident) -> Problem | None:
    """The problem behind the incident, or behind one of its children (a major incident's
    review names it): the incident's own link first, then the child linked first. One query;
    the tenant is in it, so another tenant's problem is never found."""
    link = (
        ProblemLink.objects.for_tenant(tenant)
        .filter(Q(incident=incident) | Q(incident__parent=incident))
        .select_related("problem")
        .order_by(
            Case(When(incident=incident, then=0), default=1),
            "linked_at",
            "id",
        )
        .first()
    )
    return link.problem if link else None
