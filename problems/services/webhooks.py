"""The problem.* webhook events: one for each line of a problem's timeline that a tool
watching problems wants (logged, moved, an incident linked or unlinked), written through
escalation's outbox in the transaction of the change."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from escalation.models import WebhookEvent
from escalation.services.webhooks import webhook_event_emit
from problems.models import Problem, ProblemEvent, ProblemEventKind

EVENTS = {
    ProblemEventKind.LOGGED: WebhookEvent.PROBLEM_CREATED,
    ProblemEventKind.TRANSITION: WebhookEvent.PROBLEM_TRANSITIONED,
    ProblemEventKind.LINKED: WebhookEvent.PROBLEM_LINKED,
    ProblemEventKind.UNLINKED: WebhookEvent.PROBLEM_LINKED,
}


def problem_payload(problem: Problem) -> dict[str, Any]:
    path = reverse(
        "problems-problem-detail",
        kwargs={"tenant_slug": problem.tenant.slug, "number": problem.number},
    )
    return {
        "number": problem.reference,
        "title": problem.title,
        "state": problem.state,
        "priority": problem.priority.label,
        "owner": problem.owner.email if problem.owner else None,
        "group": problem.group.slug if problem.group else None,
        "root_cause": problem.root_cause,
        "workaround": problem.workaround,
        "url": settings.SITE_URL + path,
    }


def problem_event_emit(problem: Problem, event: ProblemEvent) -> None:
    payload = {
        "problem": problem_payload(problem),
        "actor": event.actor_name,
        "from_state": event.from_state or None,
        "to_state": event.to_state or None,
        "incident": event.data.get("incident"),
        "unlinked": event.kind == ProblemEventKind.UNLINKED,
    }
    name = EVENTS[ProblemEventKind(event.kind)]
    text = f"{problem.reference} {problem.title}: {event.get_kind_display().lower()}"
    webhook_event_emit(tenant=problem.tenant, event=name, payload=payload, text=text)
