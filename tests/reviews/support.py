"""Helpers for the reviews' tests: a major incident made through the real services."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.services.parent import incident_link_children
from reviews import services as reviews
from reviews.models import ActionItem, Review
from tests.desk.desk_support import fresh, report, routed


def major_incident(people):
    """Email down for all, with two children; an internal note on the parent and a public reply
    on a child."""
    alice = people.actor(people.alice)
    parent = services.incident_accept(incident=routed(people, "Email down for all"), actor=alice)
    child = routed(people, "No email on my laptop")
    other = report(people, "Outlook says offline")
    parent = incident_link_children(
        incident=parent, actor=alice, children=[child, other], expected_version=parent.version
    )
    services.comment_add(
        incident=fresh(parent), actor=alice, body="Mail relay queue is full", public=False
    )
    services.comment_add(incident=fresh(child), actor=alice, body="We are on it, sorry")
    return fresh(parent), fresh(child), fresh(other)


def started(people, incident, by=None) -> Review:
    return reviews.review_start(actor=people.actor(by or people.max), incident=incident)


def published(people, incident) -> Review:
    manager = people.actor(people.max)
    review = started(people, incident)
    review = reviews.review_edit(
        actor=manager, review=review, summary="Mail was down", root_cause="A full relay queue"
    )
    return reviews.review_publish(actor=manager, review=review)


def alices_action(people, incident, title: str, *, due_in_days: int) -> ActionItem:
    """A published review of the incident with one action item, alice's."""
    review = published(people, incident)
    return reviews.action_item_add(
        actor=people.actor(people.max),
        review=review,
        title=title,
        owner=people.alice,
        due_date=in_days(due_in_days),
    )


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def review_url(people, name: str, incident, **extra) -> str:
    kwargs = {"tenant_slug": people.acme.slug, "number": incident.number, **extra}
    return reverse(f"reviews-{name}", kwargs=kwargs)
