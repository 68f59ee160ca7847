"""Forms of the agent desk. They validate input and turn ids into the tenant's objects; the
services decide. Choices come from one DeskChoices per request, so a page with many forms runs
one query per kind of choice, not one per form."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from desk.selectors import DEFAULT_QUEUE, QUEUES, DeskChoices, QueueFilters
from incidents.models import HoldReason, Incident, IncidentState, Level
from incidents.models.incident import format_reference
from incidents.selectors import REFERENCE
from problems.models import Problem
from problems.selectors import parse_problem_reference
from tenancy.inputs import DayField, whole_number

BLANK = ("", "—")


def parse_reference(text: str) -> int | None:
    match = REFERENCE.match(text or "")
    return int(match.group(1)) if match else None


class FastSelect(forms.Select):
    """A <select> built in Python. The stock widget renders one template per option, and the
    desk's pages carry several lists of agents and groups: that was most of a page's time."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> SafeString:
        chosen = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) in chosen else "", label)
                for key, label in self.choices
            ),
        )
        final = self.build_attrs(self.attrs, attrs)
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final), options)


class DeskForm(forms.Form):
    """A form that knows the tenant's choices (and, on the incident page, the incident)."""

    def __init__(
        self, *args: Any, desk: DeskChoices, incident: Incident | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.desk = desk
        self.incident = incident
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField) and type(field.widget) is forms.Select:
                fast = FastSelect(attrs=field.widget.attrs)
                fast.choices = field.widget.choices
                field.widget = fast
        self.setup()

    def setup(self) -> None:
        """Fill choices and initial values; override where needed."""

    def set_choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def group_choices(self, blank: str = "—") -> list[tuple[str, str]]:
        return [("", blank)] + [(str(g.pk), g.name) for g in self.desk.groups]

    def agent_choices(self, blank: str = "—") -> list[tuple[str, str]]:
        return [("", blank)] + [(str(u.pk), u.display_name) for u in self.desk.agents]

    def pick(self, field: str, options: list) -> Any:
        """The object a choice field names (None when blank)."""
        value = self.cleaned_data.get(field)
        if not value:
            return None
        found = next((o for o in options if str(o.pk) == value), None)
        if found is None:
            raise ValidationError("Choose one of the options offered.")
        return found

    def incident_by_reference(self, field: str) -> Incident | None:
        text = (self.cleaned_data.get(field) or "").strip()
        if not text:
            return None
        number = parse_reference(text)
        tenant = self.desk.tenant
        found = (
            Incident.objects.for_tenant(tenant).filter(number=number).first() if number else None
        )
        if found is None:
            raise ValidationError(f"There is no incident {text} here.")
        return found


# --- the queue ------------------------------------------------------------------------------
class QueueFilterForm(DeskForm):
    queue = forms.ChoiceField(required=False, widget=forms.HiddenInput)
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Number, title or text"}),
    )
    in_queue = forms.BooleanField(required=False, label="Only in this queue")
    state = forms.ChoiceField(required=False, label="State")
    priority = forms.ChoiceField(required=False, label="Priority")
    group = forms.ChoiceField(required=False, label="Group")
    assignee = forms.ChoiceField(required=False, label="Assignee")
    category = forms.ChoiceField(required=False, label="Category")
    reported_from = DayField(
        required=False, label="Reported from", widget=forms.DateInput(attrs={"type": "date"})
    )
    reported_to = DayField(
        required=False, label="Reported to", widget=forms.DateInput(attrs={"type": "date"})
    )
    imported = forms.ChoiceField(
        required=False,
        label="Imported",
        choices=[("", "Any"), ("hide", "Hide imported"), ("only", "Imported only")],
    )

    def setup(self) -> None:
        self.set_choices("queue", [(slug, q.label) for slug, q in QUEUES.items()])
        self.set_choices("state", [("", "Any")] + list(IncidentState.choices))
        self.set_choices(
            "priority", [("", "Any")] + [(str(level.pk), level.label) for level in self.desk.levels]
        )
        self.set_choices(
            "group",
            [("", "Any"), ("none", "No group")] + [(str(g.pk), g.name) for g in self.desk.groups],
        )
        self.set_choices(
            "assignee",
            [("", "Anyone"), ("me", "Me"), ("none", "Nobody")]
            + [(str(u.pk), u.display_name) for u in self.desk.agents],
        )
        self.set_choices(
            "category",
            [("", "Any"), ("none", "No category")]
            + [(str(c.pk), c.name) for c in self.desk.categories],
        )

    def queue_slug(self) -> str:
        value = self.data.get("queue", "")
        return value if value in QUEUES else DEFAULT_QUEUE

    def filters(self) -> QueueFilters:
        """The valid filters; a bad value (an edited URL) is reported and left out."""
        self.is_valid()
        data = {name: v for name, v in self.cleaned_data.items() if name not in self.errors}
        return QueueFilters(
            state=data.get("state", ""),
            priority=int(data["priority"]) if data.get("priority") else None,
            group=data.get("group", ""),
            assignee=data.get("assignee", ""),
            category=data.get("category", ""),
            reported_from=data.get("reported_from"),
            reported_to=data.get("reported_to"),
            q=(data.get("q") or "").strip(),
            in_queue=bool(data.get("in_queue")),
            imported=data.get("imported", ""),
        )


BULK_ACTIONS = [
    ("assign_me", "Assign to me"),
    ("assign_agent", "Assign to an agent"),
    ("escalate_group", "Escalate to a group"),
    ("cancel_duplicate", "Cancel as duplicate of…"),
    ("close_imported", "Close imported, left open by their source (admins)"),
    ("link_problem", "Link to problem…"),
    ("create_problem", "Create a problem from these incidents"),
]


class BulkForm(DeskForm):
    action = forms.ChoiceField(choices=[BLANK, *BULK_ACTIONS], label="With the selected")
    # The ticked rows: checkboxes of the queue table, "number:version" each.
    incidents = forms.Field(
        widget=forms.MultipleHiddenInput,
        error_messages={"required": "Select at least one incident."},
    )
    agent = forms.ChoiceField(required=False, label="Agent")
    group = forms.ChoiceField(required=False, label="Group")
    duplicate_of = forms.CharField(required=False, max_length=20, label="Duplicate of (number)")
    reason = forms.CharField(required=False, max_length=2000, label="Reason for the change")
    problem = forms.CharField(required=False, max_length=20, label="Problem (number)")
    problem_title = forms.CharField(required=False, max_length=200, label="New problem's title")

    def setup(self) -> None:
        self.set_choices("agent", self.agent_choices())
        self.set_choices("group", self.group_choices())

    def clean_incidents(self) -> list[tuple[int, int]]:
        """Each selected row is "number:version": the version the agent saw."""
        items = []
        for value in self.cleaned_data["incidents"]:
            number, _, version = (whole_number(part) for part in value.partition(":"))
            if number is None or version is None:
                raise ValidationError("The selection is malformed; reload the queue.")
            items.append((number, version))
        return items

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action == "assign_agent":
            data["agent"] = self._required_pick("agent", self.desk.agents, "Choose the agent.")
        if action == "escalate_group":
            data["group"] = self._required_pick("group", self.desk.groups, "Choose the group.")
        if action == "cancel_duplicate":
            try:
                data["original"] = self.incident_by_reference("duplicate_of")
            except ValidationError as exc:
                self.add_error("duplicate_of", exc)
            else:
                if data["original"] is None:
                    self.add_error("duplicate_of", "Give the number of the original incident.")
        if action == "link_problem":
            data["problem"] = self._problem(data.get("problem") or "")
        if action == "create_problem" and not (data.get("problem_title") or "").strip():
            self.add_error("problem_title", "Give the new problem a title.")
        return data

    def _problem(self, text: str) -> Problem | None:
        number = parse_problem_reference(text)
        found = Problem.objects.for_tenant(self.desk.tenant).filter(number=number).first()
        if not text.strip() or found is None:
            self.add_error("problem", f"There is no problem {text.strip() or '(none given)'} here.")
        return found

    def _required_pick(self, field: str, options: list, message: str) -> Any:
        try:
            found = self.pick(field, options)
        except ValidationError as exc:
            self.add_error(field, exc)
            return None
        if found is None:
            self.add_error(field, message)
        return found


# --- the incident page ----------------------------------------------------------------------
def _text(label: str, *, required: bool = True, rows: int = 3, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": rows, **attrs}),
    )


class ActionForm(DeskForm):
    """Every action posts the version of the incident the agent was looking at."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def keep_text_with_version(self, version: int) -> None:
        """After a conflict: keep what the agent typed, on top of the fresh version."""
        data = cast(QueryDict, self.data).copy()
        data[self.add_prefix("expected_version")] = str(version)
        self.data = data


class EscalateForm(ActionForm):
    group = forms.ChoiceField(required=False, label="To group")
    assignee = forms.ChoiceField(required=False, label="To agent")
    kind = forms.ChoiceField(
        label="Kind of escalation",
        choices=[
            ("functional", "Functional (a team with the skills)"),
            ("hierarchical", "Hierarchical (up the line)"),
        ],
        initial="functional",
        widget=forms.RadioSelect,
    )
    reason = _text("Reason for escalating", required=False, rows=2)

    def setup(self) -> None:
        self.set_choices("group", self.group_choices("Keep the current group"))
        self.set_choices("assignee", self.agent_choices("Nobody yet"))

    def clean_group(self) -> Any:
        return self.pick("group", self.desk.groups)

    def clean_assignee(self) -> Any:
        return self.pick("assignee", self.desk.agents)


class NoFieldsForm(ActionForm):
    """Accept: a button and the version."""


class HoldForm(ActionForm):
    hold_reason = forms.ChoiceField(label="Waiting for", choices=[BLANK, *HoldReason.choices])
    note = _text("Note for the hold", required=False, rows=2)


class ResumeForm(ActionForm):
    note = _text("Note on resuming", required=False, rows=2)


class ResolveForm(ActionForm):
    resolution_code = forms.ChoiceField(label="Resolution code")
    resolution_notes = _text("Resolution notes (what you found, the steps taken)", rows=4)

    def setup(self) -> None:
        self.set_choices(
            "resolution_code", [BLANK] + [(c.slug, c.label) for c in self.desk.resolution_codes]
        )


class CancelForm(ActionForm):
    reason = _text("Why cancel", required=False, rows=2)
    duplicate_of = forms.CharField(
        required=False, max_length=20, label="Duplicate of (number, optional)"
    )

    def clean_duplicate_of(self) -> Incident | None:
        return self.incident_by_reference("duplicate_of")


class ReopenForm(ActionForm):
    reason = _text("What is still wrong", rows=2)


class CloseForm(ActionForm):
    rating = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        label="Reporter's rating",
        choices=[("", "Not given")] + [(str(n), str(n)) for n in range(5, 0, -1)],
    )
    comment = _text("What the reporter said", rows=2)


class PriorityForm(ActionForm):
    impact = forms.ChoiceField(label="Impact", choices=Level.choices)
    urgency = forms.ChoiceField(label="Urgency", choices=Level.choices)
    reason = _text("Why impact or urgency changes", rows=2)

    def setup(self) -> None:
        if self.incident is None:
            return
        self.initial.setdefault("impact", self.incident.impact)
        self.initial.setdefault("urgency", self.incident.urgency)
        preview = reverse(
            "desk-incident-priority",
            kwargs={"tenant_slug": self.desk.tenant.slug, "number": self.incident.number},
        )
        for name in ("impact", "urgency"):
            # Each choice asks the server which priority it gives, before anything is saved.
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": preview,
                    "hx-trigger": "change",
                    "hx-include": "[name='priority-impact'],[name='priority-urgency']",
                    "hx-target": "#priority-preview",
                    # Two quick changes: the later answer wins, never a stale one arriving late.
                    "hx-sync": "closest form:replace",
                }
            )


class ReassignForm(ActionForm):
    group = forms.ChoiceField(required=False, label="Group")
    assignee = forms.ChoiceField(required=False, label="Assignee")
    reason = _text("Reason for reassigning", required=False, rows=2)

    def setup(self) -> None:
        self.set_choices("group", self.group_choices("No group"))
        self.set_choices("assignee", self.agent_choices("Nobody"))
        if self.incident is not None:
            self.initial.setdefault("group", str(self.incident.group_id or ""))
            self.initial.setdefault("assignee", str(self.incident.assignee_id or ""))

    def clean_group(self) -> Any:
        return self.pick("group", self.desk.groups)

    def clean_assignee(self) -> Any:
        return self.pick("assignee", self.desk.agents)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)] if data else []


class ReplyForm(ActionForm):
    body = _text("Public reply", required=False, rows=4)
    # Named as comment_add's argument; a declared field, not BaseForm.files.
    files = MultipleFileField(required=False, label="Attach files")  # type: ignore[assignment]


class NoteForm(ActionForm):
    body = _text("Internal note (agents only)", required=False, rows=3)
    body.help_text = (
        "Mention a colleague to tell them: @ and their email address, or the part before the "
        "@ when nobody else shares it (@alice)."
    )
    # Named as comment_add's argument; a declared field, not BaseForm.files.
    files = MultipleFileField(required=False, label="Attach files")  # type: ignore[assignment]


class AttachForm(ActionForm):
    upload = forms.FileField(label="File")
    internal = forms.BooleanField(required=False, label="Agents only (internal)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["public"] = not data.pop("internal", False)
        return data


class DiagnosisForm(ActionForm):
    cause_category = forms.CharField(required=False, max_length=100, label="Cause category")
    root_cause = _text("Root cause", required=False, rows=2)
    workaround = _text("Workaround", required=False, rows=2)

    def setup(self) -> None:
        if self.incident is not None:
            for name in ("cause_category", "root_cause", "workaround"):
                self.initial.setdefault(name, getattr(self.incident, name))


class LinkParentForm(ActionForm):
    parent = forms.CharField(max_length=20, label="Parent incident (number)")

    def clean_parent(self) -> Incident | None:
        return self.incident_by_reference("parent")


class LinkChildrenForm(ActionForm):
    children = forms.CharField(
        max_length=500, label="Child incidents (numbers, separated by commas or spaces)"
    )

    def clean_children(self) -> list[Incident]:
        texts = [t for t in (self.cleaned_data["children"] or "").replace(",", " ").split() if t]
        numbers: list[int] = []
        unknown: list[str] = []
        for text in texts:
            number = parse_reference(text)
            if number:
                numbers.append(number)
            else:
                unknown.append(text)
        found = {
            i.number: i
            for i in Incident.objects.for_tenant(self.desk.tenant).filter(number__in=numbers)
        }
        unknown += [format_reference(n) for n in numbers if n not in found]
        if unknown:
            raise ValidationError(f"There is no incident {', '.join(map(str, unknown))} here.")
        return [found[n] for n in numbers]
