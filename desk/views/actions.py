"""What an agent can do on the incident page: each action is a form and one service call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desk import forms as f
from incidents.models import Incident, IncidentState
from incidents.rules import allowed_transitions
from incidents.services import (
    attachment_add,
    comment_add,
    incident_accept,
    incident_cancel,
    incident_close,
    incident_escalate,
    incident_hold,
    incident_reassign,
    incident_record_diagnosis,
    incident_reopen,
    incident_resolve,
    incident_resolve_first_contact,
    incident_resume,
    incident_update,
)
from incidents.services.parent import (
    incident_link_children,
    incident_link_parent,
    incident_unlink_parent,
)
from tenancy.actors import Actor

Service = Callable[..., Any]


@dataclass(frozen=True)
class Action:
    """A form whose cleaned data are the keyword arguments of one service."""

    name: str
    label: str
    form: type[f.ActionForm]
    service: Service
    done: str  # the success message, with {ref}
    fixed: dict[str, Any] = field(default_factory=dict)  # arguments the page always passes
    shortcut: str = ""

    @property
    def is_button(self) -> bool:
        """An action with nothing to fill in is a plain button, not a folded form."""
        return self.form is f.NoFieldsForm

    def run(self, incident: Incident, actor: Actor, data: dict[str, Any]) -> Any:
        return self.service(incident=incident, actor=actor, **self.fixed, **data)


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "accept",
            "Accept",
            f.NoFieldsForm,
            incident_accept,
            "{ref} is yours: diagnosis started.",
            shortcut="a",
        ),
        Action("escalate", "Escalate", f.EscalateForm, incident_escalate, "{ref} escalated."),
        Action("hold", "Put on hold", f.HoldForm, incident_hold, "{ref} is on hold."),
        Action("resume", "Resume", f.ResumeForm, incident_resume, "{ref} resumed."),
        Action("resolve", "Resolve", f.ResolveForm, incident_resolve, "{ref} resolved."),
        Action(
            "first_contact",
            "Resolve at first contact",
            f.ResolveForm,
            incident_resolve_first_contact,
            "{ref} resolved at first contact.",
        ),
        Action("reopen", "Reopen", f.ReopenForm, incident_reopen, "{ref} reopened."),
        Action(
            "close",
            "Close on the reporter's word",
            f.CloseForm,
            incident_close,
            "{ref} closed.",
            fixed={"on_reporters_word": True},
        ),
        Action("cancel", "Cancel", f.CancelForm, incident_cancel, "{ref} cancelled."),
        Action(
            "priority",
            "Change impact or urgency",
            f.PriorityForm,
            incident_update,
            "{ref}: priority updated.",
        ),
        Action("reassign", "Reassign", f.ReassignForm, incident_reassign, "{ref} reassigned."),
        Action(
            "reply",
            "Public reply",
            f.ReplyForm,
            comment_add,
            "Reply sent on {ref}.",
            fixed={"public": True},
            shortcut="r",
        ),
        Action(
            "note",
            "Internal note",
            f.NoteForm,
            comment_add,
            "Note added to {ref}.",
            fixed={"public": False},
            shortcut="n",
        ),
        Action("attach", "Attach a file", f.AttachForm, attachment_add, "File attached to {ref}."),
        Action(
            "diagnosis",
            "Record diagnosis",
            f.DiagnosisForm,
            incident_record_diagnosis,
            "Diagnosis recorded on {ref}.",
        ),
        Action(
            "link_parent",
            "Link to a parent incident",
            f.LinkParentForm,
            incident_link_parent,
            "{ref} is now a child incident.",
        ),
        Action(
            "link_children",
            "Link child incidents",
            f.LinkChildrenForm,
            incident_link_children,
            "Children linked to {ref}.",
        ),
        Action(
            "unlink_parent",
            "Unlink from parent",
            f.NoFieldsForm,
            incident_unlink_parent,
            "{ref} is no longer a child incident.",
        ),
    )
}

TRANSITION_ACTIONS = (
    "accept",
    "resume",
    "escalate",
    "hold",
    "resolve",
    "reopen",
    "close",
    "cancel",
)
S = IncidentState


def available_actions(actor: Actor, incident: Incident, *, has_children: bool) -> list[str]:
    """The actions this agent may take on this incident now, in the page's order."""
    allowed = allowed_transitions(actor, incident)
    names = [name for name in TRANSITION_ACTIONS if name in allowed]
    if "escalate" in allowed and incident.state in (S.REPORTED, S.ESCALATED) and actor.user:
        names.insert(names.index("escalate") + 1, "first_contact")
    if incident.is_open:
        names += ["priority", "reassign"]
    if not incident.is_final:
        names += ["reply", "note", "attach", "diagnosis"]
    if incident.is_open:
        if incident.parent_id:
            names.append("unlink_parent")
        else:
            names += ([] if has_children else ["link_parent"]) + ["link_children"]
    return names
