"""Bulk actions of the desk's queue: each row goes through its own service call and
transaction, so one refused row is reported by number and the others are still applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from incidents.models import AssignmentGroup, Incident, IncidentState
from incidents.models.incident import format_reference
from incidents.services.edit import incident_reassign
from incidents.services.transitions import incident_cancel, incident_escalate
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed, Refusal
from tenancy.models import Role, User

IMPORTED_CLOSE_REASON = "Imported while still open in its source tool; closed by an admin."


@dataclass
class BulkResult:
    applied: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (reference, why)


RowAction = Callable[[Incident, int], Incident]


def incidents_bulk_apply(
    *, actor: Actor, items: list[tuple[int, int]], action: RowAction
) -> BulkResult:
    """Run `action(incident, expected_version)` on each (number, version) of the tenant."""
    result = BulkResult()
    numbers = [number for number, _ in items]
    found = {
        i.number: i for i in Incident.objects.for_tenant(actor.tenant).filter(number__in=numbers)
    }
    for number, version in items:
        reference = format_reference(number)
        incident = found.get(number)
        if incident is None:
            result.failed.append((reference, "no such incident here"))
            continue
        try:
            action(incident, version)  # each service is its own transaction
        except Refusal as exc:
            result.failed.append((reference, exc.message))
        else:
            result.applied.append(reference)
    return result


def assign_action(actor: Actor, user: User, reason: str = "") -> RowAction:
    """A new incident is escalated to the agent; one already in the desk's hands is reassigned
    (its state stays: an incident being diagnosed is not sent back to be accepted)."""

    def run(incident: Incident, version: int) -> Incident:
        new = incident.state == IncidentState.REPORTED
        service = incident_escalate if new else incident_reassign
        return service(
            incident=incident,
            actor=actor,
            group=incident.group,
            assignee=user,
            reason=reason,
            expected_version=version,
        )

    return run


def escalate_action(actor: Actor, group: AssignmentGroup, reason: str = "") -> RowAction:
    def run(incident: Incident, version: int) -> Incident:
        return incident_escalate(
            incident=incident, actor=actor, group=group, reason=reason, expected_version=version
        )

    return run


def cancel_duplicate_action(actor: Actor, original: Incident, reason: str = "") -> RowAction:
    def run(incident: Incident, version: int) -> Incident:
        return incident_cancel(
            incident=incident,
            actor=actor,
            duplicate_of=original,
            reason=reason or f"Duplicate of {original.reference}",
            expected_version=version,
        )

    return run


def incident_close_imported(
    *, incident: Incident, actor: Actor, reason: str = "", expected_version: int | None = None
) -> Incident:
    """Take an imported incident that its source left open out of the live queues, whose
    years-old clocks say "Breached 3929 d ago" of work nobody here is doing: cancelled (an
    outcome neither met nor breached, as the import's own cancellations), with its reason on
    the timeline. An admin's call: it ends incidents nobody on the desk worked."""
    if actor.kind != "member" or actor.role != Role.ADMIN:
        raise NotAllowed("Only an admin can close imported incidents.")
    if not incident.source_number:
        raise InvalidInput(
            f"{incident.reference} was not imported; it is closed through its lifecycle."
        )
    return incident_cancel(
        incident=incident,
        actor=actor,
        reason=(reason or "").strip() or IMPORTED_CLOSE_REASON,
        expected_version=expected_version,
    )


def close_imported_action(actor: Actor, reason: str = "") -> RowAction:
    def run(incident: Incident, version: int) -> Incident:
        return incident_close_imported(
            incident=incident, actor=actor, reason=reason, expected_version=version
        )

    return run
