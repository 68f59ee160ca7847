"""Reads of reviews: who may see which, the owner's open actions, the overdue figure."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from incidents.models import Incident, IncidentState
from problems.models import Problem
from problems.selectors import problem_of_incident
from reviews.models import ActionItem, Review, ReviewState, TimelineEntry
from tenancy.actors import Actor
from tenancy.models import Tenant, User


def reviews_for_actor(*, actor: Actor) -> QuerySet[Review]:
    """Agents read published reviews; managers and admins every one; authors their drafts;
    requesters none."""
    found = Review.objects.for_tenant(actor.tenant).select_related("incident")
    if not actor.is_agent_or_above:
        return found.none()
    if actor.is_manager:
        return found
    published = Q(state=ReviewState.PUBLISHED)
    if actor.user_id is None:  # an integration: author_id=None would be every authorless draft
        return found.filter(published)
    return found.filter(published | Q(author_id=actor.user_id))


def review_for_actor(*, actor: Actor, number: int) -> Review:
    """The review of incident `number`, if the actor may see it; the same 404 otherwise, for a
    draft, another tenant's review and none at all."""
    review = reviews_for_actor(actor=actor).filter(incident__number=number).first()
    if review is None:
        raise Http404("No such review here.")
    return review


def review_problem(review: Review) -> Problem | None:
    """The problem behind the reviewed incident or one of its children, in the review's tenant
    (the review names it; its root cause stands in while the review has none)."""
    return problem_of_incident(tenant=review.tenant_id, incident=review.incident)


def review_timeline(review: Review) -> QuerySet[TimelineEntry]:
    return TimelineEntry.objects.for_tenant(review.tenant_id).filter(review=review)


def review_actions(review: Review) -> QuerySet[ActionItem]:
    return (
        ActionItem.objects.for_tenant(review.tenant_id)
        .filter(review=review)
        .select_related("owner")
    )


def action_for_actor(*, actor: Actor, pk: int) -> ActionItem:
    """An action item of a review the actor may see; 404 otherwise."""
    visible = reviews_for_actor(actor=actor)
    item = (
        ActionItem.objects.for_tenant(actor.tenant)
        .filter(pk=pk, review__in=visible)
        .select_related("review", "review__incident")
        .first()
    )
    if item is None:
        raise Http404("No such action here.")
    return item


def open_actions_for_owner(*, tenant: Tenant, user: User) -> QuerySet[ActionItem]:
    """The owner's actions not yet done, of published reviews, soonest due first: one query,
    run only where a page iterates it (the desk queue's panel)."""
    return (
        ActionItem.objects.for_tenant(tenant)
        .filter(owner=user, done=False, review__state=ReviewState.PUBLISHED)
        .select_related("review__incident")
        .order_by("due_date", "id")
    )


def _overdue(tenant: Tenant) -> QuerySet[ActionItem]:
    today = timezone.localdate()
    return ActionItem.objects.for_tenant(tenant).filter(
        done=False, due_date__lt=today, review__state=ReviewState.PUBLISHED
    )


def overdue_actions_count(*, tenant: Tenant) -> int:
    return _overdue(tenant).count()


def overdue_actions(*, tenant: Tenant, limit: int = 10) -> list[ActionItem]:
    """The longest overdue first, with their owners and incidents: one query."""
    found = _overdue(tenant).select_related("owner", "review__incident")
    return list(found.order_by("due_date", "id")[:limit])


def major_incidents_without_review(*, tenant: Tenant, limit: int = 20) -> list[Incident]:
    """Resolved or closed parents (major incidents) nobody has reviewed yet, newest first."""
    has_children = Incident.objects.for_tenant(tenant).filter(parent=OuterRef("pk"))
    reviewed = Review.objects.for_tenant(tenant).filter(incident=OuterRef("pk"))
    return list(
        Incident.objects.for_tenant(tenant)
        .filter(Exists(has_children), ~Exists(reviewed))
        .filter(state__in=[IncidentState.RESOLVED, IncidentState.CLOSED])
        .order_by("-reported_at")[:limit]
    )
