"""What incidents hold about a person (tenancy/personal_data.py): the incidents they reported
(by account or as a contact by address) or were assigned, their events, comments, attachments,
participation and mutes, their groups and private canned responses."""

from __future__ import annotations

from incidents.models import (
    AssignmentGroup,
    Attachment,
    CannedResponse,
    Comment,
    GroupMember,
    Incident,
    IncidentContact,
    IncidentEvent,
    IncidentMute,
    Participant,
)
from tenancy.personal_data import Held, Mentioned, Written, declare


def register() -> None:
    declare(
        "incidents",
        [
            Held(Incident, "reporter", "detach", names=("contact_name",)),
            Held(Incident, "contact_email", "blank", names=("contact_name",)),
            Held(Incident, "assignee", "detach"),
            Held(IncidentEvent, "actor_user", "detach", names=("actor_name",)),
            Held(Comment, "author", "detach", names=("author_name",)),
            Held(Attachment, "uploaded_by", "detach"),
            Held(Participant, "user", "delete"),
            Held(IncidentContact, "email", "alias", names=("name",)),
            Held(IncidentMute, "address", "delete"),
            Held(AssignmentGroup, "lead", "detach"),
            Held(GroupMember, "user", "delete"),
            Held(CannedResponse, "owner", "delete"),  # their own; shared ones have no owner
        ],
        # The timeline names people in its data: {"assignee": ["Alice Agent", "Bob Agent"]}.
        mentioned=[
            Mentioned(IncidentEvent, "data"),
            Written(Incident, "description"),
            Written(Comment, "body"),
        ],
    )
