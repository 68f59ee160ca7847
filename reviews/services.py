"""The only writers of reviews, their timelines and their action items."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Comment, EventKind, Incident, IncidentEvent
from reviews.models import ActionItem, Review, ReviewState, TimelineEntry
from reviews.rules import check_edit, check_start, may_close_action, may_edit
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import STAFF_ROLES, Membership, User

TEXT_FIELDS = ("summary", "customer_impact", "root_cause", "went_well", "went_badly")
# What the review's timeline leaves out of the incident's: the outbox's mails say nothing the
# events before them did not.
SKIPPED_KINDS = (EventKind.NOTIFICATION,)
TIMELINE_TEXT_MAX = 2000


def _event_text(event: IncidentEvent, reference: str, comments: dict[int, str]) -> str:
    label = event.get_kind_display()
    if event.kind == EventKind.TRANSITION and event.transition:
        label = f"{event.transition.replace('_', ' ')} ({event.from_state} → {event.to_state})"
    text = f"{reference}: {event.actor_name}: {label}"
    detail = comments.get(event.data.get("comment_id") or 0) or event.reason
    if detail:
        text = f"{text}: {detail.strip()}"
    return text[:TIMELINE_TEXT_MAX]


def _incident_entries(review: Review, incidents: list[Incident]) -> list[TimelineEntry]:
    """The events of the incident and its children, oldest first: three queries in all."""
    tenant_id = review.tenant_id
    references = {i.pk: i.reference for i in incidents}
    events = (
        IncidentEvent.objects.for_tenant(tenant_id)
        .filter(incident_id__in=references)
        .exclude(kind__in=SKIPPED_KINDS)
        .order_by("created_at", "id")
    )
    comments = dict(
        Comment.objects.for_tenant(tenant_id)
        .filter(incident_id__in=references)
        .values_list("id", "body")
    )
    return [
        TimelineEntry(
            tenant_id=tenant_id,
            review=review,
            at=event.created_at,
            text=_event_text(event, references[event.incident_id], comments),
            internal=not event.public,
        )
        for event in events
    ]


@transaction.atomic
def review_start(*, actor: Actor, incident: Incident) -> Review:
    """A draft review of the incident, its timeline filled from the events of the incident and
    its children; the review already there if someone started one (one per incident)."""
    check_start(actor)
    existing = Review.objects.for_tenant(actor.tenant).filter(incident=incident).first()
    if existing is not None:
        return existing
    if incident.tenant_id != actor.tenant.pk:
        raise NotAllowed("That incident is not in this desk.")
    review = Review(
        tenant=actor.tenant,
        incident=incident,
        author=actor.user,
        author_name=actor.name,
        summary=incident.title,
    )
    try:
        with transaction.atomic():  # two managers pressing at once: the second gets the first's
            review.save()
    except IntegrityError:
        return Review.objects.for_tenant(actor.tenant).get(incident=incident)
    children = list(Incident.objects.for_tenant(actor.tenant).filter(parent=incident))
    TimelineEntry.objects.bulk_create(_incident_entries(review, [incident, *children]))
    return review


def _lock(review: Review) -> Review:
    return Review.objects.for_tenant(review.tenant_id).select_for_update().get(pk=review.pk)


def _touch(review: Review, *fields: str) -> None:
    review.updated_at = timezone.now()
    review.save(update_fields=[*fields, "updated_at"])


@transaction.atomic
def review_edit(*, actor: Actor, review: Review, **texts: str) -> Review:
    """Change the review's texts: summary, customer impact, root cause, went well and badly."""
    review = _lock(review)
    check_edit(actor, review)
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise InvalidInput(f"A review has no {', '.join(sorted(unknown))}.")
    for name, value in texts.items():
        setattr(review, name, value.strip())
    _touch(review, *texts)
    return review


@transaction.atomic
def review_publish(*, actor: Actor, review: Review) -> Review:
    """Show the review to every agent of the tenant. It needs its summary and its root cause."""
    review = _lock(review)
    check_edit(actor, review)
    if review.is_published:
        return review
    missing = [
        label
        for name, label in (("summary", "a summary"), ("root_cause", "a root cause"))
        if not getattr(review, name).strip()
    ]
    if missing:
        raise InvalidInput(f"Write {' and '.join(missing)} before publishing.", field="summary")
    review.state = ReviewState.PUBLISHED
    review.published_at = timezone.now()
    _touch(review, "state", "published_at")
    return review


def _clean_text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"Write the {what}.", field="text")
    if len(text) > TIMELINE_TEXT_MAX:
        raise InvalidInput(
            f"The {what} is {len(text)} characters long; keep it under {TIMELINE_TEXT_MAX}.",
            field="text",
        )
    return text


@transaction.atomic
def timeline_entry_add(
    *, actor: Actor, review: Review, at: datetime.datetime, text: str
) -> TimelineEntry:
    review = _lock(review)
    check_edit(actor, review)
    entry = TimelineEntry.objects.create(
        tenant_id=review.tenant_id, review=review, at=at, text=_clean_text(text, "entry's text")
    )
    _touch(review)
    return entry


@transaction.atomic
def timeline_entry_edit(
    *, actor: Actor, entry: TimelineEntry, at: datetime.datetime, text: str
) -> TimelineEntry:
    review = _lock(entry.review)
    check_edit(actor, review)
    entry.at, entry.text = at, _clean_text(text, "entry's text")
    entry.save(update_fields=["at", "text"])
    _touch(review)
    return entry


@transaction.atomic
def timeline_entry_remove(*, actor: Actor, entry: TimelineEntry) -> None:
    review = _lock(entry.review)
    check_edit(actor, review)
    entry.delete()
    _touch(review)


def _check_owner(tenant_id: int, owner: User | None) -> User:
    active_agent = Membership.objects.for_tenant(tenant_id).filter(
        user=owner, role__in=STAFF_ROLES, is_active=True
    )
    if owner is None or not active_agent.exists():
        raise InvalidInput("The owner must be one of this desk's agents.", field="owner")
    return owner


@transaction.atomic
def action_item_add(
    *, actor: Actor, review: Review, title: str, owner: User | None, due_date: datetime.date | None
) -> ActionItem:
    review = _lock(review)
    check_edit(actor, review)
    title = (title or "").strip()
    if not title:
        raise InvalidInput("Say what is to be done.", field="title")
    if due_date is None:
        raise InvalidInput("Give the action a due date.", field="due_date")
    item = ActionItem.objects.create(
        tenant_id=review.tenant_id,
        review=review,
        title=title[:200],
        owner=_check_owner(review.tenant_id, owner),
        due_date=due_date,
    )
    _touch(review)
    return item


@transaction.atomic
def action_item_remove(*, actor: Actor, item: ActionItem) -> None:
    review = _lock(item.review)
    check_edit(actor, review)
    item.delete()
    _touch(review)


@transaction.atomic
def action_item_set_done(*, actor: Actor, item: ActionItem, done: bool = True) -> ActionItem:
    """The owner, or whoever may edit the review, marks it done (or not done after all)."""
    review = _lock(item.review)
    if not (may_close_action(actor, item) or may_edit(actor, review)):
        raise NotAllowed("Only the action's owner and the review's editors can mark it done.")
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if item.done != done:
        item.done, item.done_at = done, timezone.now() if done else None
        item.save(update_fields=["done", "done_at"])
    return item
