"""Who may do what with a review. Pages and services ask here, so they agree."""

from __future__ import annotations

from reviews.models import ActionItem, Review
from tenancy.actors import Actor
from tenancy.errors import NotAllowed


def may_start(actor: Actor) -> bool:
    return actor.is_manager


def is_author(actor: Actor, review: Review) -> bool:
    # An integration (an API key) has no person: it is nobody's author, not the author of
    # every review whose author is gone.
    return actor.user_id is not None and review.author_id == actor.user_id


def may_see(actor: Actor, review: Review) -> bool:
    """Published: every agent. A draft: managers, admins and its author."""
    if not actor.is_agent_or_above:
        return False
    return review.is_published or actor.is_manager or is_author(actor, review)


def may_edit(actor: Actor, review: Review) -> bool:
    return actor.is_manager or (actor.is_agent_or_above and is_author(actor, review))


def may_close_action(actor: Actor, item: ActionItem) -> bool:
    """The owner marks their own action done; whoever may edit the review may too."""
    return item.owner_id is not None and item.owner_id == actor.user_id


def check_start(actor: Actor) -> None:
    if not may_start(actor):
        raise NotAllowed("Only managers and admins can start a review.")


def check_edit(actor: Actor, review: Review) -> None:
    if not may_edit(actor, review):
        raise NotAllowed("Only managers, admins and the review's author can change it.")
