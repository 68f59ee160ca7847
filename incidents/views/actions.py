"""What an agent can do on the incident page: each action is a form and one service call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incidents import forms as f
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

Runner = Callable[[Incident, Actor, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    form: type[f.ActionForm]
    run: Runner
    done: str  # the success message, with {ref}
    shortcut: str = ""

    @property
    def is_button(self) -> bool:
        """An action with nothing to fill in is a plain button, not a folded form."""
        return self.form is f.NoFieldsForm


def _v(data: dict[str, Any]) -> dict[str, Any]:
    return {"expected_version": data["expected_version"]}


def _escalate(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_escalate(
        incident=i,
        actor=actor,
        group=d["group"],
        assignee=d["assignee"],
        kind=d["kind"],
        reason=d["reason"],
        **_v(d),
    )


def _hold(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_hold(
        incident=i, actor=actor, hold_reason=d["hold_reason"], note=d["note"], **_v(d)
    )


def _resolve(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_resolve(
        incident=i,
        actor=actor,
        resolution_code=d["resolution_code"],
        resolution_notes=d["resolution_notes"],
        **_v(d),
    )


def _first_contact(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_resolve_first_contact(
        incident=i,
        actor=actor,
        resolution_code=d["resolution_code"],
        resolution_notes=d["resolution_notes"],
        **_v(d),
    )


def _cancel(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_cancel(
        incident=i, actor=actor, reason=d["reason"], duplicate_of=d["duplicate_of"], **_v(d)
    )


def _close(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_close(
        incident=i,
        actor=actor,
        rating=d["rating"],
        comment=d["comment"],
        on_reporters_word=True,
        **_v(d),
    )


def _priority(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_update(
        incident=i,
        actor=actor,
        impact=d["impact"],
        urgency=d["urgency"],
        reason=d["reason"],
        **_v(d),
    )


def _reassign(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_reassign(
        incident=i,
        actor=actor,
        group=d["group"],
        assignee=d["assignee"],
        reason=d["reason"],
        **_v(d),
    )


def _comment(public: bool) -> Runner:
    def run(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
        return comment_add(
            incident=i, actor=actor, body=d["body"], public=public, files=d["files"], **_v(d)
        )

    return run


def _attach(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return attachment_add(
        incident=i, actor=actor, upload=d["file"], public=not d["internal"], **_v(d)
    )


def _diagnosis(i: Incident, actor: Actor, d: dict[str, Any]) -> Any:
    return incident_record_diagnosis(
        incident=i,
        actor=actor,
        cause_category=d["cause_category"],
        root_cause=d["root_cause"],
        workaround=d["workaround"],
        **_v(d),
    )


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "accept",
            "Accept",
            f.NoFieldsForm,
            lambda i, actor, d: incident_accept(incident=i, actor=actor, **_v(d)),
            "{ref} is yours: diagnosis started.",
            shortcut="a",
        ),
        Action("escalate", "Escalate", f.EscalateForm, _escalate, "{ref} escalated."),
        Action("hold", "Put on hold", f.HoldForm, _hold, "{ref} is on hold."),
        Action(
            "resume",
            "Resume",
            f.ResumeForm,
            lambda i, actor, d: incident_resume(incident=i, actor=actor, note=d["note"], **_v(d)),
            "{ref} resumed.",
        ),
        Action("resolve", "Resolve", f.ResolveForm, _resolve, "{ref} resolved."),
        Action(
            "first_contact",
            "Resolve at first contact",
            f.ResolveForm,
            _first_contact,
            "{ref} resolved at first contact.",
        ),
        Action(
            "reopen",
            "Reopen",
            f.ReopenForm,
            lambda i, actor, d: incident_reopen(
                incident=i, actor=actor, reason=d["reason"], **_v(d)
            ),
            "{ref} reopened.",
        ),
        Action("close", "Close on the reporter's word", f.CloseForm, _close, "{ref} closed."),
        Action("cancel", "Cancel", f.CancelForm, _cancel, "{ref} cancelled."),
        Action(
            "priority",
            "Change impact or urgency",
            f.PriorityForm,
            _priority,
            "{ref}: priority updated.",
        ),
        Action("reassign", "Reassign", f.ReassignForm, _reassign, "{ref} reassigned."),
        Action(
            "reply",
            "Public reply",
            f.ReplyForm,
            _comment(True),
            "Reply sent on {ref}.",
            shortcut="r",
        ),
        Action(
            "note",
            "Internal note",
            f.NoteForm,
            _comment(False),
            "Note added to {ref}.",
            shortcut="n",
        ),
        Action("attach", "Attach a file", f.AttachForm, _attach, "File attached to {ref}."),
        Action(
            "diagnosis",
            "Record diagnosis",
            f.DiagnosisForm,
            _diagnosis,
            "Diagnosis recorded on {ref}.",
        ),
        Action(
            "link_parent",
            "Link to a parent incident",
            f.LinkParentForm,
            lambda i, actor, d: incident_link_parent(
                incident=i, actor=actor, parent=d["parent"], **_v(d)
            ),
            "{ref} is now a child incident.",
        ),
        Action(
            "link_children",
            "Link child incidents",
            f.LinkChildrenForm,
            lambda i, actor, d: incident_link_children(
                incident=i, actor=actor, children=d["children"], **_v(d)
            ),
            "Children linked to {ref}.",
        ),
        Action(
            "unlink_parent",
            "Unlink from parent",
            f.NoFieldsForm,
            lambda i, actor, d: incident_unlink_parent(incident=i, actor=actor, **_v(d)),
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
