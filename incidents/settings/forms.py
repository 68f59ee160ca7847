"""Forms of the settings pages. They only parse input; the services decide what is allowed."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django import forms

from incidents.models import AssignmentGroup, Category, Level
from incidents.selectors.config import priority_scale, staff_users
from incidents.services.defaults import PRESETS
from incidents.services.priority import MAX_LEVELS, Matrix, Scale, matrix_for
from tenancy.models import Tenant, User

SLUG_HELP = "Lowercase letters, digits and hyphens; made from the name when left blank."


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.email})"


class StaffMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name} ({obj.email})"


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=60, required=False, help_text=SLUG_HELP)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lead = StaffChoiceField(queryset=User.objects.none(), required=False, empty_label="No lead")
    members = StaffMultipleChoiceField(
        queryset=User.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    auto_assign = forms.BooleanField(
        required=False,
        label="Auto-assignment",
        help_text="Assign each new incident to the member with the fewest open ones.",
    )
    is_active = forms.BooleanField(
        required=False,
        initial=True,
        label="Active",
        help_text="An inactive group gets no new incidents from its categories.",
    )

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = staff_users(tenant)
        self.fields["lead"].queryset = staff  # type: ignore[attr-defined]
        self.fields["members"].queryset = staff  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(group: AssignmentGroup) -> dict[str, Any]:
        return {
            "name": group.name,
            "slug": group.slug,
            "description": group.description,
            "lead": group.lead_id,
            "members": list(group.members.values_list("user_id", flat=True)),
            "auto_assign": group.auto_assign,
            "is_active": group.is_active,
        }


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(max_length=60, required=False, help_text=SLUG_HELP)
    group = forms.ModelChoiceField(
        queryset=AssignmentGroup.objects.none(),
        required=False,
        label="Route to group",
        empty_label="No routing: new incidents wait in Unassigned",
        help_text="Incidents reported in this category are escalated to this group.",
    )

    def __init__(self, *args: Any, tenant: Tenant, current: Category | None = None, **kw: Any):
        super().__init__(*args, **kw)
        groups = AssignmentGroup.objects.for_tenant(tenant).filter(is_active=True)
        if current is not None and current.group_id:
            # A rule to a group deactivated since stays selectable, so saving keeps it.
            groups = AssignmentGroup.objects.for_tenant(tenant).filter(pk=current.group_id) | groups
        self.fields["group"].queryset = groups.order_by("name")  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(category: Category) -> dict[str, Any]:
        return {"name": category.name, "slug": category.slug, "group": category.group_id}


class ResolutionCodeForm(forms.Form):
    label = forms.CharField(max_length=100)
    slug = forms.CharField(
        max_length=60, required=False, help_text=SLUG_HELP.replace("name", "label")
    )


class ResolutionCodeRenameForm(forms.Form):
    label = forms.CharField(max_length=100, label="New label")


# --- priority scale and matrix ----------------------------------------------------------

ROW_RE = re.compile(r"^level-(\d+)-(?:slug|label)$")
MAX_ROWS = 20  # rows beyond the five shown come only from a crafted post; cap the work


def _cell(impact: str, urgency: str) -> str:
    return f"cell-{impact}-{urgency}"


def _row(n: int) -> tuple[str, str]:
    return f"level-{n}-slug", f"level-{n}-label"


def proposal_data(scale: list[tuple[str, str]], matrix: dict[str, dict[str, str]]) -> dict:
    """Form data for a scale and matrix, as the page would post them."""
    data: dict[str, str] = {}
    for n, (slug, label) in enumerate(scale, start=1):
        data[_row(n)[0]], data[_row(n)[1]] = slug, label
    for impact, row in matrix.items():
        for urgency, slug in row.items():
            data[_cell(str(impact), str(urgency))] = slug
    return data


def preset_data(name: str) -> dict[str, str]:
    scale, matrix = PRESETS[name]
    plain = {str(i): {str(u): slug for u, slug in row.items()} for i, row in matrix.items()}
    return proposal_data([(slug, label) for slug, label, _ in scale], plain)


def current_data(tenant: Tenant) -> dict[str, str]:
    scale = [(lvl.slug, lvl.label) for lvl in priority_scale(tenant)]
    matrix = {i: {u: lvl.slug for u, lvl in row.items()} for i, row in matrix_for(tenant).items()}
    return proposal_data(scale, matrix)


def current_proposal(tenant: Tenant) -> tuple[Scale, Matrix]:
    form = MatrixForm(current_data(tenant))
    form.is_valid()
    return form.proposal()


def proposal_token(scale: Scale, matrix: Matrix) -> str:
    """Names exactly what the admin confirmed, so a confirmation never saves something else."""
    blob = json.dumps([scale, matrix], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class MatrixForm(forms.Form):
    """The scale (rows, most urgent first) and one select per impact x urgency cell.

    Every field is optional here: matrix_set is the one judge of holes and of the number of
    levels, so its message is the one the admin reads. Posted rows beyond the five shown are
    kept for the same reason.
    """

    def __init__(self, data: Any = None, *, initial: dict | None = None) -> None:
        super().__init__(data, initial=initial)
        source = data if data is not None else (initial or {})
        rows = max([MAX_LEVELS] + [int(m.group(1)) for k in source if (m := ROW_RE.match(k))])
        self.rows = range(1, min(rows, MAX_ROWS) + 1)
        for n in self.rows:
            slug, label = _row(n)
            rank = " (most urgent)" if n == 1 else ""
            self.fields[slug] = forms.CharField(required=False, label=f"Level {n}{rank} slug")
            self.fields[label] = forms.CharField(required=False, label=f"Level {n} label")
        choices = self._level_choices(source)
        for impact in Level:
            for urgency in Level:
                name = _cell(impact.value, urgency.value)
                self.fields[name] = forms.CharField(
                    required=False,
                    label=f"{impact.label} impact × {urgency.label.lower()} urgency",
                    widget=forms.Select(choices=self._cell_choices(choices, source.get(name))),
                )

    @staticmethod
    def _cell_choices(levels: list[tuple[str, str]], posted: str | None) -> list[tuple[str, str]]:
        # A level the admin named but then removed from the scale stays visible (and refused by
        # the service), rather than the select silently dropping what was chosen.
        picked = (posted or "").strip().lower()
        missing = [(picked, f"{picked} (not on the scale)")] if picked not in dict(levels) else []
        return [("", "— choose —"), *levels, *(missing if picked else [])]

    def _level_choices(self, source: Any) -> list[tuple[str, str]]:
        choices: list[tuple[str, str]] = []
        for n in self.rows:
            slug = (source.get(_row(n)[0]) or "").strip().lower()
            label = (source.get(_row(n)[1]) or "").strip()
            if slug and slug not in dict(choices):
                choices.append((slug, label or slug))
        return choices

    def scale_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[_row(n)[0]], self[_row(n)[1]]) for n in self.rows]

    def matrix_rows(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (impact.label, [self[_cell(impact.value, u.value)] for u in Level]) for impact in Level
        ]

    def proposal(self) -> tuple[Scale, Matrix]:
        data = self.cleaned_data
        scale = []
        for n in self.rows:
            slug, label = data[_row(n)[0]].strip().lower(), data[_row(n)[1]].strip()
            if slug or label:
                scale.append((slug, label))
        matrix = {
            i.value: {u.value: data[_cell(i.value, u.value)].strip().lower() for u in Level}
            for i in Level
        }
        return scale, matrix

    def mark_holes(self) -> None:
        """Flag the cells left empty, so the admin sees where the hole is."""
        for _impact, cells in self.matrix_rows():
            for bound in cells:
                if not (self.data.get(bound.html_name) or "").strip():
                    bound.field.widget.attrs["aria-invalid"] = "true"
