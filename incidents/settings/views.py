"""Groups, categories and resolution codes: list, create, edit, (de)activate.

Admins only; any other role gets the same 404 as a stranger, whatever the method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Model
from django.forms import Form
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from incidents.models import AssignmentGroup, Category, ResolutionCode
from incidents.selectors import config as selectors
from incidents.services import config
from incidents.settings.forms import (
    CategoryForm,
    GroupForm,
    ResolutionCodeForm,
    ResolutionCodeRenameForm,
)
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest

T = "incidents/settings/"


def _form_page(
    request: TenantRequest,
    form: Form,
    template: str,
    save: Callable[[dict[str, Any]], Any],
    done: str,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Validate, call the one service, and on success go back to the list; on a refusal show
    the form again with the message and everything typed."""
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Saved {obj}.")
            return redirect(done, request.tenant.slug)
    return render(request, T + template, {"form": form, **(context or {})})


def _toggle(
    request: TenantRequest, service: Callable[..., Model], done: str, message: str, **kw: Any
) -> HttpResponse:
    try:
        obj = service(actor=request.actor, **kw)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, message.format(obj))
    return redirect(done, request.tenant.slug)


# --- assignment groups ------------------------------------------------------------------


@admin_required
def group_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    groups = selectors.groups_for_settings(request.tenant)
    return render(request, T + "group_list.html", {"groups": groups})


@admin_required
def group_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = GroupForm(request.POST or None, tenant=request.tenant)
    return _form_page(
        request,
        form,
        "group_form.html",
        lambda data: config.group_create(actor=request.actor, **data),
        "settings-groups",
    )


@admin_required
def group_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    group = get_object_or_404(AssignmentGroup.objects.for_tenant(request.tenant), pk=pk)
    form = GroupForm(
        request.POST or None, tenant=request.tenant, initial=GroupForm.initial_for(group)
    )
    return _form_page(
        request,
        form,
        "group_form.html",
        lambda data: config.group_update(actor=request.actor, group=group, **data),
        "settings-groups",
        {"group": group},
    )


# --- categories -------------------------------------------------------------------------


@admin_required
def category_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    categories = selectors.categories_for_settings(request.tenant)
    return render(request, T + "category_list.html", {"categories": categories})


@admin_required
def category_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = CategoryForm(request.POST or None, tenant=request.tenant)
    return _form_page(
        request,
        form,
        "category_form.html",
        lambda data: config.category_create(actor=request.actor, **data),
        "settings-categories",
    )


@admin_required
def category_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    category = get_object_or_404(Category.objects.for_tenant(request.tenant), pk=pk)
    form = CategoryForm(
        request.POST or None,
        tenant=request.tenant,
        current=category,
        initial=CategoryForm.initial_for(category),
    )
    return _form_page(
        request,
        form,
        "category_form.html",
        lambda data: config.category_update(actor=request.actor, category=category, **data),
        "settings-categories",
        {"category": category},
    )


@admin_required
@require_POST
def category_activation(
    request: TenantRequest, tenant_slug: str, pk: int, active: bool
) -> HttpResponse:
    category = get_object_or_404(Category.objects.for_tenant(request.tenant), pk=pk)
    if active:
        service, said = config.category_reactivate, "{} is active again."
    else:
        service, said = config.category_deactivate, "{} is deactivated: no longer offered."
    return _toggle(request, service, "settings-categories", said, category=category)


# --- resolution codes -------------------------------------------------------------------


@admin_required
def resolution_code_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The list, with the form to add a code; a refused add comes back here with its input."""
    form = ResolutionCodeForm(request.POST or None)
    codes = selectors.resolution_codes_for_settings(request.tenant)
    return _form_page(
        request,
        form,
        "resolution_code_list.html",
        lambda data: config.resolution_code_create(actor=request.actor, **data),
        "settings-resolution-codes",
        {"codes": codes},
    )


@admin_required
def resolution_code_rename(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    code = get_object_or_404(ResolutionCode.objects.for_tenant(request.tenant), pk=pk)
    form = ResolutionCodeRenameForm(request.POST or None, initial={"label": code.label})
    return _form_page(
        request,
        form,
        "resolution_code_form.html",
        lambda data: config.resolution_code_rename(actor=request.actor, code=code, **data),
        "settings-resolution-codes",
        {"code": code},
    )


@admin_required
@require_POST
def resolution_code_activation(
    request: TenantRequest, tenant_slug: str, pk: int, active: bool
) -> HttpResponse:
    code = get_object_or_404(ResolutionCode.objects.for_tenant(request.tenant), pk=pk)
    if active:
        service, said = config.resolution_code_reactivate, "{} is active again."
    else:
        service, said = (
            config.resolution_code_deactivate,
            "{} is deactivated: agents no longer see it; resolved incidents keep it.",
        )
    return _toggle(request, service, "settings-resolution-codes", said, code=code)
