"""Parent (major) incidents and their children.

Links are one level deep: a parent has no parent and a child has no children, so propagation
can never loop. Both incidents must be open when they are linked.

Children follow their parent (the transition services call `propagate_to_children` through the
`propagates_to_children` decorator, inside their transaction):
- hold: open children that can wait are put on hold with the parent's hold kind, except when the
  parent waits for its own caller (awaiting_caller says nothing about the children's callers);
- resume: children the parent put on hold come back with it;
- resolve: every open child is resolved with the parent's resolution code and notes; a child
  still reported is first escalated by the system to the parent's group;
- reopen: children the parent resolved, and still resolved, are reopened;
- close: nothing. Each child waits for its own reporter's word or the confirmation window.
Every propagated change is the child's own transition event, by the system actor
"Parent INC-000123", so the child's timeline names the parent.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django_fsm import can_proceed

from incidents.models import EventKind, HoldReason, Incident, IncidentEvent, IncidentState
from incidents.rules import check_staff
from incidents.services.common import lock_incident, record_event, save_incident
from incidents.services.conflicts import fields_touch
from tenancy.actors import Actor
from tenancy.errors import InvalidInput

S = IncidentState
PARENT_ACTOR_PREFIX = "Parent "


def parent_actor(parent: Incident) -> Actor:
    """The system, acting for the parent: rules.PARENT_TRANSITIONS says what it may do."""
    name = f"{PARENT_ACTOR_PREFIX}{parent.reference}"
    return Actor(kind="system", tenant=parent.tenant, role="parent", name=name)


def _lock_pair(
    actor: Actor, parent: Incident, child: Incident, child_version: int | None
) -> tuple[Incident, Incident]:
    """Both rows locked, the child's version checked (its page asked)."""
    # Parent first, then child: propagation locks in the same order, so the two cannot deadlock.
    locked_parent = lock_incident(parent, actor=actor, expected_version=None)
    locked_child = lock_incident(
        child, actor=actor, expected_version=child_version, touch=fields_touch(["parent"])
    )
    return locked_parent, locked_child


def _check_link(parent: Incident, child: Incident) -> None:
    if parent.pk == child.pk:
        raise InvalidInput("An incident cannot be its own parent.", field="parent")
    for incident in (parent, child):
        if not incident.is_open:
            raise InvalidInput(
                f"{incident.reference} is {incident.get_state_display().lower()}; only open "
                "incidents can be linked.",
                field="parent",
            )
    if parent.parent_id is not None:
        raise InvalidInput(
            f"{parent.reference} is itself a child of another incident; link to that one.",
            field="parent",
        )
    if child.parent_id is not None and child.parent_id != parent.pk:
        raise InvalidInput(
            f"{child.reference} already has a parent; unlink it first.", field="parent"
        )
    if Incident.objects.for_tenant(child.tenant_id).filter(parent=child).exists():
        raise InvalidInput(
            f"{child.reference} is the parent of other incidents and cannot become a child.",
            field="parent",
        )


def _link(actor: Actor, parent: Incident, child: Incident) -> None:
    _check_link(parent, child)
    if child.parent_id != parent.pk:
        _set_parent(actor, parent, child, linked=True)


def _set_parent(actor: Actor, parent: Incident, child: Incident, *, linked: bool) -> None:
    """Link or unlink the locked pair, with an event on each side."""
    child.parent = parent if linked else None
    p_ref, c_ref = parent.reference, child.reference
    sides: tuple[tuple[Incident, list[str], str, dict[str, Any]], ...] = (
        (
            child,
            ["parent"],
            f"{'Linked to' if linked else 'Unlinked from'} parent {p_ref}",
            {"parent": p_ref},
        ),
        # The parent's list of children changed: for its version, that is a change too.
        (
            parent,
            [],
            f"{c_ref} linked as a child" if linked else f"{c_ref} unlinked",
            {"child": c_ref},
        ),
    )
    for incident, fields, said, data in sides:
        save_incident(incident, fields)
        record_event(
            incident,
            actor=actor,
            kind=EventKind.LINKED,
            reason=said,
            data={**data, "linked": linked},
        )


@transaction.atomic
def incident_link_parent(
    *,
    incident: Incident,
    actor: Actor,
    parent: Incident,
    expected_version: int | None = None,
) -> Incident:
    """Make `incident` a child of `parent` (the child's page asks; its version is checked)."""
    check_staff(actor, "link incidents")
    parent, child = _lock_pair(actor, parent, incident, expected_version)
    _link(actor, parent, child)
    return child


@transaction.atomic
def incident_link_children(
    *,
    incident: Incident,
    actor: Actor,
    children: Iterable[Incident],
    expected_version: int | None = None,
) -> Incident:
    """Make each of `children` a child of `incident` (the parent's page); all or none."""
    check_staff(actor, "link incidents")
    parent = lock_incident(
        incident, actor=actor, expected_version=expected_version, touch=fields_touch(["children"])
    )
    children = list(children)
    if not children:
        raise InvalidInput("Name at least one incident to link as a child.", field="children")
    for child in children:
        locked = lock_incident(child, actor=actor, expected_version=None)
        _link(actor, parent, locked)
    return parent


@transaction.atomic
def incident_unlink_parent(
    *, incident: Incident, actor: Actor, expected_version: int | None = None
) -> Incident:
    check_staff(actor, "unlink incidents")
    if incident.parent_id is None:
        raise InvalidInput(f"{incident.reference} has no parent.", field="parent")
    parent = Incident.objects.for_tenant(actor.tenant).get(pk=incident.parent_id)
    parent, child = _lock_pair(actor, parent, incident, expected_version)
    if child.parent_id != parent.pk:
        raise InvalidInput(f"{child.reference} has no parent.", field="parent")
    _set_parent(actor, parent, child, linked=False)
    return child


# --- propagation ----------------------------------------------------------------------------
def propagates_to_children(service: Callable[..., Incident]) -> Callable[..., Incident]:
    """Decorate a transition service (under its @transaction.atomic) so children follow."""
    name = service.__name__.removeprefix("incident_")

    @functools.wraps(service)
    def wrapper(*args: Any, **kwargs: Any) -> Incident:
        incident = service(*args, **kwargs)
        propagate_to_children(incident, transition=name, actor=kwargs["actor"], params=kwargs)
        return incident

    return wrapper


def propagate_to_children(
    parent: Incident, *, transition: str, actor: Actor, params: dict[str, Any]
) -> None:
    if actor.role == "parent":
        return  # a child never propagates further (links are one level; this guards bad data)
    handler = _HANDLERS.get(transition)
    if (
        handler is None
        or not Incident.objects.for_tenant(parent.tenant_id).filter(parent=parent).exists()
    ):
        return
    handler(parent, parent_actor(parent), params)


def _open_children(parent: Incident, states: Iterable[str]) -> list[Incident]:
    return list(
        Incident.objects.for_tenant(parent.tenant_id)
        .filter(parent=parent, state__in=list(states))
        .order_by("id")
    )


def _children_moved_by_parent(parent: Incident, transition: str, state: str) -> list[Incident]:
    """Children in `state` whose latest `transition` was the parent's doing."""
    children = _open_children(parent, [state])
    latest: dict[int, str] = {}
    events = (
        IncidentEvent.objects.for_tenant(parent.tenant_id)
        .filter(incident__in=children, kind=EventKind.TRANSITION, transition=transition)
        .order_by("created_at", "id")
        .values_list("incident_id", "actor_kind", "actor_name")
    )
    for incident_id, kind, name in events:
        latest[incident_id] = f"{kind}:{name}"
    mark = f"system:{parent_actor(parent).name}"
    return [c for c in children if latest.get(c.pk) == mark]


def _on_hold(parent: Incident, actor: Actor, params: dict[str, Any]) -> None:
    if parent.hold_reason == HoldReason.AWAITING_CALLER:
        return
    from incidents.services.transitions import incident_hold

    note = f"Follows parent {parent.reference} on hold. {params.get('note', '')}".strip()
    for child in _open_children(parent, [S.ESCALATED, S.DIAGNOSING]):
        incident_hold(incident=child, actor=actor, hold_reason=parent.hold_reason, note=note)


def _on_resume(parent: Incident, actor: Actor, params: dict[str, Any]) -> None:
    from incidents.services.transitions import incident_resume

    for child in _children_moved_by_parent(parent, "hold", S.ON_HOLD):
        incident_resume(incident=child, actor=actor, note=f"Parent {parent.reference} resumed")


def _on_resolve(parent: Incident, actor: Actor, params: dict[str, Any]) -> None:
    from incidents.services.transitions import incident_escalate, incident_resolve

    for child in _open_children(parent, [S.REPORTED, S.ESCALATED, S.DIAGNOSING, S.ON_HOLD]):
        if not can_proceed(child.resolve):
            child = incident_escalate(
                incident=child,
                actor=actor,
                group=parent.group,
                assignee=None if parent.group_id else parent.assignee,
                reason=f"Follows parent {parent.reference} into resolved",
            )
        incident_resolve(
            incident=child,
            actor=actor,
            resolution_code=parent.resolution_code,
            resolution_notes=parent.resolution_notes,
        )


def _on_reopen(parent: Incident, actor: Actor, params: dict[str, Any]) -> None:
    from incidents.services.transitions import incident_reopen

    reason = f"Parent {parent.reference} was reopened: {params.get('reason', '')}".strip()
    for child in _children_moved_by_parent(parent, "resolve", S.RESOLVED):
        incident_reopen(incident=child, actor=actor, reason=reason)


_HANDLERS: dict[str, Callable[[Incident, Actor, dict[str, Any]], None]] = {
    "hold": _on_hold,
    "resume": _on_resume,
    "resolve": _on_resolve,
    "reopen": _on_reopen,
}
