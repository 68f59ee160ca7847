from incidents.models.activity import (
    Attachment,
    Comment,
    EventKind,
    IncidentContact,
    IncidentEvent,
    IncidentMute,
    Participant,
)
from incidents.models.alerts import AlertSource
from incidents.models.canned import CannedResponse
from incidents.models.config import (
    AssignmentGroup,
    Category,
    GroupMember,
    Level,
    PriorityLevel,
    PriorityMatrixCell,
    ResolutionCode,
)
from incidents.models.incident import HoldReason, Incident, IncidentState
from incidents.models.integrations import AlertLog, AlertOutcome, Integration, IntegrationKind

__all__ = [
    "AlertLog",
    "AlertOutcome",
    "AlertSource",
    "Integration",
    "IntegrationKind",
    "AssignmentGroup",
    "Attachment",
    "CannedResponse",
    "Category",
    "Comment",
    "EventKind",
    "GroupMember",
    "HoldReason",
    "Incident",
    "IncidentContact",
    "IncidentEvent",
    "IncidentMute",
    "IncidentState",
    "Level",
    "Participant",
    "PriorityLevel",
    "PriorityMatrixCell",
    "ResolutionCode",
]
