"""One service per lifecycle transition. Each locks the row, checks who may act and the version,
moves the state, writes exactly one event and registers side effects on commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from incidents.errors import InvalidTransition
from incidents.hooks import incident_event, incident_transitioned
from incidents.models import (
    AssignmentGroup,
    EventKind,
    GroupMember,
    HoldReason,
    Incident,
    IncidentContact,
    IncidentState,
    Participant,
    ResolutionCode,
)
from incidents.notifications import notify_incident_people
from incidents.rules import check_transition, may_take, state_transitions
from incidents.services.common import lock_in_order, lock_incident, record_event, save_incident
from incidents.services.conflicts import transition_touch
from incidents.services.parent import propagates_to_children
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import STAFF_ROLES, Membership, User

# Functional: to the team with the skills; hierarchical: up the line (a lead or a manager).
ESCALATION_KINDS = ("functional", "hierarchical")


def _lock(
    incident: Incident,
    name: str,
    actor: Actor,
    expected_version: int | None,
    on_reporters_word: bool = False,
) -> Incident:
    locked = lock_incident(
        incident, actor=actor, expected_version=expected_version, touch=transition_touch(name)
    )
    check_transition(actor, locked, name, on_reporters_word=on_reporters_word)
    return locked


def _apply(
    locked: Incident,
    name: str,
    *,
    actor: Actor,
    changes: dict[str, Any],
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> Incident:
    """Move the locked incident through `name`, save the changes and write the one event."""
    from_state = locked.state
    getattr(locked, name)()
    for field, value in changes.items():
        setattr(locked, field, value)
    save_incident(locked, ["state", *changes])
    record_event(
        locked,
        actor=actor,
        kind=EventKind.TRANSITION,
        transition=name,
        from_state=from_state,
        to_state=locked.state,
        reason=reason,
        data=data,
    )
    incident_transitioned.send(incident=locked, transition=name, actor=actor)  # SLA clocks
    transition_webhook(locked, name, from_state=from_state, actor=actor, reason=reason)
    return locked


def transition_webhook(
    incident: Incident,
    name: str,
    *,
    from_state: str,
    actor: Actor,
    reason: str,
    config: Any = None,
) -> None:
    """Tell the webhook subscribers of `incident.transitioned` (`config`: a report's)."""
    incident_event.send(
        incident=incident,
        event="incident.transitioned",
        actor=actor,
        data={
            "transition": name,
            "from_state": from_state,
            "to_state": incident.state,
            "reason": reason,
        },
        config=config,
    )


def _staff_member(actor: Actor, user: User | None, what: str) -> User | None:
    if user is None:
        return None
    ok = (
        Membership.objects.for_tenant(actor.tenant)
        .filter(user=user, is_active=True, role__in=STAFF_ROLES)
        .exists()
    )
    if not ok or not user.is_active:
        raise InvalidInput(f"{user.email} is not an active agent of this desk.", field=what)
    return user


def _check_group(actor: Actor, group: AssignmentGroup | None) -> None:
    if group is not None and (group.tenant_id != actor.tenant.pk or not group.is_active):
        raise InvalidInput("Choose one of the desk's active groups.", field="group")


def _check_in_group(actor: Actor, group: AssignmentGroup | None, assignee: User | None) -> None:
    if group is None or assignee is None:
        return
    if not GroupMember.objects.for_tenant(actor.tenant).filter(group=group, user=assignee).exists():
        raise InvalidInput(f"{assignee.email} is not a member of {group.name}.", field="assignee")


def assignment_changes(
    incident: Incident, group: AssignmentGroup | None, assignee: User | None
) -> dict[str, Any]:
    """The fields that record a new holder; a move away from an earlier holder is counted."""
    group_id = group.pk if group else None
    assignee_id = assignee.pk if assignee else None
    changes: dict[str, Any] = {"group": group, "assignee": assignee}
    moved_group = incident.group_id is not None and incident.group_id != group_id
    moved_person = incident.assignee_id is not None and incident.assignee_id != assignee_id
    if moved_group or moved_person:
        changes["reassignment_count"] = incident.reassignment_count + 1
    if assignee_id is not None and assignee_id != incident.assignee_id:
        changes["assigned_at"] = timezone.now()
    return changes


def escalation_changes(
    incident: Incident, group: AssignmentGroup | None, assignee: User | None
) -> dict[str, Any]:
    changes = assignment_changes(incident, group, assignee)
    if incident.escalated_at is None:
        changes["escalated_at"] = timezone.now()
    return changes


def escalation_data(
    incident: Incident, group: AssignmentGroup | None, assignee: User | None, kind: str
) -> dict[str, Any]:
    """What the escalate event records: where it went and where it came from."""
    data = {
        "group": group.name if group else None,
        "assignee": assignee.email if assignee else None,
        "from_group": incident.group.name if incident.group else None,
    }
    if kind != "functional":  # the usual kind goes unsaid; hierarchical escalations are counted
        data["kind"] = kind
    return data


@transaction.atomic
def incident_escalate(
    *,
    incident: Incident,
    actor: Actor,
    group: AssignmentGroup | None = None,
    assignee: User | None = None,
    reason: str = "",
    expected_version: int | None = None,
    notify: bool = True,
    kind: str = "functional",
) -> Incident:
    """Hand the incident to a group and/or an agent (functional or hierarchical escalation).

    `notify=False` when the caller already tells the reporter (routing at report time, whose
    acknowledgement says where it goes; first-contact resolution, whose resolved email does).
    """
    if kind not in ESCALATION_KINDS:
        raise InvalidInput("Escalation is functional or hierarchical.", field="kind")
    _check_group(actor, group)
    _staff_member(actor, assignee, "assignee")
    incident = _lock(incident, "escalate", actor, expected_version)
    group = group or incident.group
    if group is None and assignee is None:
        raise InvalidInput("Escalate to a group, an agent, or both.", field="group")
    _check_in_group(actor, group, assignee)
    changes = escalation_changes(incident, group, assignee)
    data = escalation_data(incident, group, assignee, kind)
    escalated = _apply(incident, "escalate", actor=actor, changes=changes, reason=reason, data=data)
    if notify:
        notify_incident_people(escalated, "escalated")
    return escalated


@transaction.atomic
def incident_accept(
    *,
    incident: Incident,
    actor: Actor,
    assignee: User | None = None,
    expected_version: int | None = None,
    notify: bool = True,
) -> Incident:
    """Take the incident and start diagnosis; this acknowledges it (ends the response clock)."""
    incident = _lock(incident, "accept", actor, expected_version)
    assignee = assignee or actor.user
    if assignee is None:
        raise InvalidInput("Name the agent who takes the incident.", field="assignee")
    _staff_member(actor, assignee, "assignee")
    # Handing it to someone else is a manager's call, unless they belong to the group anyway.
    if not actor.is_manager and not may_take(incident, assignee.pk):
        raise NotAllowed(f"{assignee.email} is not an agent of the incident's group.")
    now = timezone.now()
    changes = assignment_changes(incident, incident.group, assignee)
    if incident.diagnosing_at is None:
        changes["diagnosing_at"] = now
    if incident.acknowledged_at is None:
        changes["acknowledged_at"] = now
    accepted = _apply(
        incident, "accept", actor=actor, changes=changes, data={"assignee": assignee.email}
    )
    if notify:
        notify_incident_people(accepted, "work_started")
    return accepted


@transaction.atomic
@propagates_to_children
def incident_hold(
    *,
    incident: Incident,
    actor: Actor,
    hold_reason: str,
    note: str = "",
    expected_version: int | None = None,
) -> Incident:
    if hold_reason not in HoldReason.values:
        kinds = ", ".join(HoldReason.values)
        raise InvalidInput(f"Choose why it waits: one of {kinds}.", field="hold_reason")
    incident = _lock(incident, "hold", actor, expected_version)
    held = _apply(
        incident,
        "hold",
        actor=actor,
        changes={"hold_reason": hold_reason, "on_hold_at": timezone.now()},
        reason=note,
        data={"hold_reason": hold_reason},
    )
    if hold_reason == HoldReason.AWAITING_CALLER:
        notify_incident_people(held, "awaiting_you", extra={"note": note.strip()})
    return held


@transaction.atomic
@propagates_to_children
def incident_resume(
    *, incident: Incident, actor: Actor, note: str = "", expected_version: int | None = None
) -> Incident:
    incident = _lock(incident, "resume", actor, expected_version)
    changes: dict[str, Any] = {"hold_reason": ""}
    if incident.diagnosing_at is None:  # held before anyone accepted it
        changes["diagnosing_at"] = timezone.now()
    return _apply(
        incident,
        "resume",
        actor=actor,
        changes=changes,
        reason=note,
        data={"hold_reason": incident.hold_reason},
    )


def _resolution_code(actor: Actor, code: ResolutionCode | str | None) -> ResolutionCode:
    if isinstance(code, str):
        code = ResolutionCode.objects.for_tenant(actor.tenant).filter(slug=code).first()
    if code is None or code.tenant_id != actor.tenant.pk or not code.is_active:
        raise InvalidInput("Choose a resolution code.", field="resolution_code")
    return code


def _resolution_notes(notes: str | None) -> str:
    notes = (notes or "").strip()
    if not notes:
        raise InvalidInput(
            "Describe what you found and the steps taken to restore service.",
            field="resolution_notes",
        )
    return notes


@transaction.atomic
@propagates_to_children
def incident_resolve(
    *,
    incident: Incident,
    actor: Actor,
    resolution_code: ResolutionCode | str | None,
    resolution_notes: str,
    expected_version: int | None = None,
) -> Incident:
    """Root cause removed: the notes record the findings and the steps taken."""
    code = _resolution_code(actor, resolution_code)
    notes = _resolution_notes(resolution_notes)
    incident = _lock(incident, "resolve", actor, expected_version)
    resolved = _apply(
        incident,
        "resolve",
        actor=actor,
        changes={
            "resolution_code": code,
            "resolution_notes": notes,
            "resolved_at": timezone.now(),
            "hold_reason": "",
        },
        data={"resolution_code": code.slug},
    )
    notify_incident_people(resolved, "resolved", answer_links=True)
    return resolved


FIRST_CONTACT_FROM = (IncidentState.REPORTED, IncidentState.ESCALATED, IncidentState.DIAGNOSING)


@transaction.atomic
def incident_resolve_first_contact(
    *,
    incident: Incident,
    actor: Actor,
    resolution_code: ResolutionCode | str | None,
    resolution_notes: str,
    expected_version: int | None = None,
) -> Incident:
    """Fixed while the caller is on the line: escalate to self, accept, resolve (three events)."""
    if actor.kind != "member" or not actor.is_agent_or_above:
        raise NotAllowed("Only an agent can resolve an incident at first contact.")
    _resolution_code(actor, resolution_code)
    _resolution_notes(resolution_notes)
    current = lock_incident(
        incident,
        actor=actor,
        expected_version=expected_version,
        touch=transition_touch("resolve"),
    )
    if current.state not in FIRST_CONTACT_FROM:
        allowed = state_transitions(current)
        raise InvalidTransition(
            f"{current.reference} is {current.get_state_display().lower()}; only an open "
            "incident nobody has put on hold can be resolved at first contact. Allowed now: "
            f"{', '.join(allowed) or 'nothing (final)'}.",
            allowed=allowed,
        )
    incident = incident_escalate(
        incident=current,
        actor=actor,
        assignee=actor.user,
        group=current.group,
        reason="Resolved at first contact",
        notify=False,
    )
    incident = incident_accept(incident=incident, actor=actor, notify=False)
    return incident_resolve(
        incident=incident,
        actor=actor,
        resolution_code=resolution_code,
        resolution_notes=resolution_notes,
    )


@transaction.atomic
@propagates_to_children
def incident_reopen(
    *, incident: Incident, actor: Actor, reason: str, expected_version: int | None = None
) -> Incident:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            "Say what is still wrong, so the agent knows where to look.", field="reason"
        )
    incident = _lock(incident, "reopen", actor, expected_version)
    return _apply(
        incident,
        "reopen",
        actor=actor,
        changes={
            "reopen_count": incident.reopen_count + 1,
            "resolved_at": None,
            "diagnosing_at": incident.diagnosing_at or timezone.now(),
        },
        reason=reason,
        data={
            "resolution_code": incident.resolution_code.slug if incident.resolution_code else None,
            "resolution_notes": incident.resolution_notes,
        },
    )


@transaction.atomic
def incident_close(
    *,
    incident: Incident,
    actor: Actor,
    rating: int | None = None,
    comment: str = "",
    on_reporters_word: bool = False,
    expected_version: int | None = None,
) -> Incident:
    """The reporter confirms service is normal (and rates the help), or the window ran out."""
    valid = isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5
    if rating is not None and not valid:
        raise InvalidInput("The rating is a whole number from 1 to 5.", field="rating")
    changes: dict[str, Any] = {"closed_at": timezone.now()}
    if rating is not None:
        changes["satisfaction_rating"] = rating
        changes["satisfaction_comment"] = (comment or "").strip()
    incident = _lock(incident, "close", actor, expected_version, on_reporters_word)
    closed = _apply(
        incident,
        "close",
        actor=actor,
        changes=changes,
        reason=(comment or "").strip(),
        data={"rating": rating, "on_reporters_word": on_reporters_word},
    )
    notify_incident_people(closed, "closed")
    return closed


@transaction.atomic
def incident_cancel(
    *,
    incident: Incident,
    actor: Actor,
    reason: str,
    duplicate_of: Incident | None = None,
    expected_version: int | None = None,
) -> Incident:
    reason = given_reason = (reason or "").strip()
    if not reason and duplicate_of is None:
        raise InvalidInput("Say why the incident is cancelled.", field="reason")
    if duplicate_of is not None:
        _check_duplicate_target(actor, incident, duplicate_of)
        # Both rows, in id order: two agents marking each other's incident cannot deadlock.
        lock_in_order(actor, [incident.pk, duplicate_of.pk])
    incident = _lock(incident, "cancel", actor, expected_version)
    if duplicate_of is not None:
        duplicate_of = lock_incident(duplicate_of, actor=actor, expected_version=None)
        _check_original_open(duplicate_of)
        reason = reason or f"Duplicate of {duplicate_of.reference}"
    cancelled = _apply(
        incident,
        "cancel",
        actor=actor,
        changes={
            "cancel_reason": reason,
            "duplicate_of": duplicate_of,
            "cancelled_at": timezone.now(),
            "hold_reason": "",
        },
        reason=reason,
        data={"duplicate_of": duplicate_of.reference if duplicate_of else None},
    )
    if duplicate_of is not None:
        _move_people_to(cancelled, duplicate_of, actor=actor)
    # The reporter hears why; a duplicate's mail names the incident to follow instead.
    notify_incident_people(
        cancelled, "cancelled", reporter_only=True, extra={"reason": given_reason}
    )
    return cancelled


def _check_duplicate_target(actor: Actor, incident: Incident, original: Incident) -> None:
    if original.tenant_id != actor.tenant.pk:
        raise InvalidInput(
            "No such incident to mark this one a duplicate of.", field="duplicate_of"
        )
    if original.pk == incident.pk:
        raise InvalidInput("An incident cannot be a duplicate of itself.", field="duplicate_of")


def _check_original_open(original: Incident) -> None:
    if original.is_final:
        raise InvalidInput(
            f"{original.reference} is {original.get_state_display().lower()}; choose an open "
            "incident as the original.",
            field="duplicate_of",
        )


def _move_people_to(duplicate: Incident, original: Incident, *, actor: Actor) -> None:
    """The reporter and affected people of a duplicate join the original incident."""
    from incidents.services.people import incident_join_all

    user_ids = list(
        Participant.objects.for_tenant(actor.tenant)
        .filter(incident=duplicate)
        .values_list("user_id", flat=True)
    )
    if duplicate.reporter_id:
        user_ids.insert(0, duplicate.reporter_id)
    # People who left the tenant keep their history on the duplicate but join nothing new.
    members = Membership.objects.for_tenant(actor.tenant).filter(is_active=True)
    people = User.objects.filter(id__in=user_ids, is_active=True, memberships__in=members)
    # Contacts without an account follow the original by mail and its link, as members do.
    contacts = list(
        IncidentContact.objects.for_tenant(actor.tenant)
        .filter(incident=duplicate)
        .order_by("id")
        .values_list("email", "name")
    )
    if duplicate.reporter_id is None and duplicate.contact_email:
        contacts.insert(0, (duplicate.contact_email.lower(), duplicate.contact_name))
    incident_join_all(
        incident=original,
        actor=actor,
        users=list(people.order_by("id")),
        via=duplicate,
        contacts=contacts,
    )
