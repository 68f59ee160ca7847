"""A member leaves the desk: the open incidents they hold go back to their groups' queues.

Left with someone who can no longer sign in, they would wait unseen while their clocks ran.
Each goes back through incident_reassign, so it gets the same event, and its group the same
alert, as any reassignment to the group.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from incidents.models import Incident, IncidentState
from incidents.models.incident import OPEN_STATES
from incidents.services.edit import incident_reassign
from tenancy.actors import Actor
from tenancy.models import Membership


@dataclass(frozen=True)
class HandedBack:
    returned: int  # back in their group's queue
    kept: int  # no active group to go back to: still theirs, for a manager to reassign

    def __str__(self) -> str:
        """What the admin who deactivated the member is told."""
        said = []
        if self.returned:
            said.append(f"{_incidents(self.returned)} they held went back to their groups' queues.")
        if self.kept:
            one = self.kept == 1
            said.append(
                f"{_incidents(self.kept)} with no active group {'stays' if one else 'stay'} "
                f"assigned to them: reassign {'it' if one else 'them'} from the desk."
            )
        return " ".join(said)


def _incidents(count: int) -> str:
    return "1 open incident" if count == 1 else f"{count} open incidents"


def member_left(*, actor: Actor, membership: Membership) -> str:
    """tenancy.hooks.member_left: what the member held goes back; what the admin is told."""
    return str(incidents_hand_back(actor=actor, membership=membership))


@transaction.atomic
def incidents_hand_back(*, actor: Actor, membership: Membership) -> HandedBack:
    """Hand the (just deactivated) member's open incidents back to their groups."""
    # Locked, all of them, in id order (as every multi-incident change does) before any is
    # read for its group: a manager reassigning one meanwhile either goes first, and it is
    # no longer theirs, or waits until they are handed back.
    held = list(
        Incident.objects.for_tenant(actor.tenant)
        .filter(assignee_id=membership.user_id, state__in=OPEN_STATES)
        .exclude(state=IncidentState.REPORTED)
        .select_related("group")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    returned = kept = 0
    reason = f"{membership.user.display_name} no longer works on this desk."
    for incident in held:
        if incident.group is None or not incident.group.is_active:
            kept += 1
            continue
        incident_reassign(
            incident=incident, actor=actor, group=incident.group, assignee=None, reason=reason
        )
        returned += 1
    return HandedBack(returned, kept)
