"""The desk's own writes: an agent's saved views. Each is the agent's own, in one tenant."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from desk.models import SAVED_VIEW_NAME_MAX, SavedView
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed

SAVED_VIEWS_MAX = 30  # tabs per agent: more would not fit the row of queue tabs


def _owner(actor: Actor):
    if actor.user is None or not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's agents save views.")
    return actor.user


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Give the view a name.", field="name")
    if len(name) > SAVED_VIEW_NAME_MAX:
        raise InvalidInput(
            f"A view's name is limited to {SAVED_VIEW_NAME_MAX} characters.", field="name"
        )
    return name


def _save(view: SavedView, **kwargs) -> SavedView:
    # The unique index decides between two tabs saving the same name at once.
    try:
        with transaction.atomic():
            view.save(**kwargs)
    except IntegrityError as error:
        raise InvalidInput(
            f"You already have a view called “{view.name}”.", field="name"
        ) from error
    return view


def saved_view_create(*, actor: Actor, name: str, query: str) -> SavedView:
    """Save the agent's current queue, filters and search (`query`, from
    desk.search.view_query) under a name of their own."""
    user = _owner(actor)
    name = _clean_name(name)
    views = SavedView.objects.for_tenant(actor.tenant).filter(user=user)
    if views.count() >= SAVED_VIEWS_MAX:
        raise InvalidInput(
            f"You have {SAVED_VIEWS_MAX} saved views already; delete one first.", field="name"
        )
    view = SavedView(tenant=actor.tenant, user=user, name=name, query=query[:2000])
    return _save(view, force_insert=True)


def _own(actor: Actor, view: SavedView) -> None:
    if view.tenant_id != actor.tenant.pk or view.user_id != _owner(actor).pk:
        raise NotAllowed("This view is someone else's.")


def saved_view_rename(*, actor: Actor, view: SavedView, name: str) -> SavedView:
    _own(actor, view)
    view.name = _clean_name(name)
    return _save(view, update_fields=["name"])


def saved_view_delete(*, actor: Actor, view: SavedView) -> None:
    _own(actor, view)
    view.delete()
