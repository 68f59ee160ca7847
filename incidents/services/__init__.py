"""The only code that changes incidents. Views, API, tasks and commands call these."""

from incidents.services.comments import attachment_add, comment_add
from incidents.services.edit import incident_reassign, incident_record_diagnosis, incident_update
from incidents.services.people import incident_contact_add, incident_join
from incidents.services.priority import matrix_set, priority_derive
from incidents.services.report import incident_report
from incidents.services.transitions import (
    incident_accept,
    incident_cancel,
    incident_close,
    incident_escalate,
    incident_hold,
    incident_reopen,
    incident_resolve,
    incident_resolve_first_contact,
    incident_resume,
)

__all__ = [
    "attachment_add",
    "comment_add",
    "incident_accept",
    "incident_cancel",
    "incident_close",
    "incident_contact_add",
    "incident_escalate",
    "incident_hold",
    "incident_join",
    "incident_reassign",
    "incident_record_diagnosis",
    "incident_reopen",
    "incident_report",
    "incident_resolve",
    "incident_resolve_first_contact",
    "incident_resume",
    "incident_update",
    "matrix_set",
    "priority_derive",
]
