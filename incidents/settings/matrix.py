"""The priority scale and matrix page: edit, apply a preset, confirm before re-deriving."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from incidents.selectors import config as selectors
from incidents.services.defaults import PRESETS
from incidents.services.priority import matrix_changes_count, matrix_set
from incidents.settings.forms import (
    MatrixForm,
    current_data,
    current_proposal,
    preset_data,
    proposal_token,
)
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.http import TenantRequest

PRESET_NAMES = {"default": "default", "itil": "ITIL"}


def _page(request: TenantRequest, form: MatrixForm, confirm: dict | None = None) -> HttpResponse:
    tenant = request.tenant
    context: dict[str, Any] = {
        "form": form,
        "confirm": confirm,
        "scale": selectors.priority_scale(tenant),
        "grid": selectors.matrix_grid(tenant),
        "urgencies": ["High", "Medium", "Low"],
        "presets": PRESET_NAMES,
    }
    return render(request, "incidents/settings/matrix_edit.html", context)


@admin_required
def matrix_edit(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Save goes through matrix_set. When open incidents would change priority the page first
    says how many and asks to confirm that exact proposal (its token), keeping the input."""
    if request.method != "POST":
        return _page(request, MatrixForm(initial=current_data(request.tenant)))
    preset = request.POST.get("preset", "")
    form = MatrixForm(preset_data(preset) if preset in PRESETS else request.POST)
    if "refresh" in request.POST or not form.is_valid():
        return _page(request, form)
    scale, matrix = form.proposal()
    if (scale, matrix) == current_proposal(request.tenant):
        messages.info(request, "Nothing to save: this is the scale and matrix in use.")
        return redirect("settings-matrix", tenant_slug)
    try:
        changing = matrix_changes_count(tenant=request.tenant, scale=scale, matrix=matrix)
        token = proposal_token(scale, matrix)
        if changing and request.POST.get("confirm") != token:
            return _page(request, form, confirm={"count": changing, "token": token})
        changed = matrix_set(actor=request.actor, scale=scale, matrix=matrix)
    except Refusal as exc:
        form.add_error(None, exc.message)
        form.mark_holes()
        return _page(request, form)
    messages.success(request, _saved_message(changed))
    return redirect("settings-matrix", tenant_slug)


def _saved_message(changed: int) -> str:
    if not changed:
        return "Priority scale and matrix saved. No open incident changed priority."
    noun = "incident" if changed == 1 else "incidents"
    return (
        f"Priority scale and matrix saved. {changed} open {noun} changed priority; "
        "each change is on its timeline."
    )
