"""Canned responses: the organisation's (admins, under Settings) and an agent's own.

Both pages are one list with an add form, an edit page and a delete button; `personal` (from
the URL) says which set they manage. Another agent's personal response, another tenant's and a
missing one are the same 404, and to anyone but an admin the organisation's page is a 404 too.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from incidents.models import CannedResponse
from incidents.models.canned import PLACEHOLDERS
from incidents.selectors.canned import (
    canned_response_for_actor,
    canned_responses_of_tenant,
    canned_responses_of_user,
)
from incidents.services import canned
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.forms import PlainLabels, show_refusal
from tenancy.http import TenantRequest
from tenancy.models import Role

T = "incidents/settings/"
PLACEHOLDER_HELP = "Placeholders such as {requester_name} or {number} are filled in on insert."


class CannedResponseForm(PlainLabels, forms.Form):
    name = forms.CharField(max_length=canned.NAME_MAX)
    body = forms.CharField(
        label="Text",
        max_length=canned.BODY_MAX,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=PLACEHOLDER_HELP,
    )


def _pages(personal: bool) -> dict[str, str]:
    if personal:
        return {
            "list": "settings-my-canned-responses",
            "edit": "settings-my-canned-response-edit",
            "delete": "settings-my-canned-response-delete",
        }
    return {
        "list": "settings-canned-responses",
        "edit": "settings-canned-response-edit",
        "delete": "settings-canned-response-delete",
    }


def _context(personal: bool) -> dict[str, object]:
    return {
        "personal": personal,
        "pages": _pages(personal),
        "placeholders": PLACEHOLDERS.items(),
    }


def _may_open(request: TenantRequest, personal: bool) -> None:
    """The organisation's page is the admins'; to anyone else it does not exist."""
    if not personal and request.membership.role != Role.ADMIN:
        raise Http404("No such page here.")


@staff_required
def canned_list(request: TenantRequest, tenant_slug: str, personal: bool) -> HttpResponse:
    """The list and the add form; a refused add comes back here with everything typed."""
    _may_open(request, personal)
    form = CannedResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            response = canned.canned_response_create(
                actor=request.actor, personal=personal, **form.cleaned_data
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Saved the canned response “{response}”.")
            return redirect(_pages(personal)["list"], request.tenant.slug)
    rows = (
        canned_responses_of_user(actor=request.actor)
        if personal
        else canned_responses_of_tenant(request.tenant)
    )
    context = {**_context(personal), "form": form, "responses": rows}
    return render(request, T + "canned_list.html", context)


def _response(request: TenantRequest, pk: int, personal: bool) -> CannedResponse:
    """The response, if it is one this page manages: the agent's own, or the organisation's."""
    _may_open(request, personal)
    response = canned_response_for_actor(actor=request.actor, pk=pk)
    if response.is_personal != personal:
        raise Http404("No such canned response here.")
    return response


@staff_required
def canned_edit(request: TenantRequest, tenant_slug: str, pk: int, personal: bool) -> HttpResponse:
    response = _response(request, pk, personal)
    initial = {"name": response.name, "body": response.body}
    form = CannedResponseForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            canned.canned_response_update(
                actor=request.actor, response=response, **form.cleaned_data
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Saved the canned response “{form.cleaned_data['name']}”.")
            return redirect(_pages(personal)["list"], request.tenant.slug)
    context = {**_context(personal), "form": form, "response": response}
    return render(request, T + "canned_form.html", context)


@staff_required
@require_POST
def canned_delete(
    request: TenantRequest, tenant_slug: str, pk: int, personal: bool
) -> HttpResponse:
    response = _response(request, pk, personal)
    try:
        canned.canned_response_delete(actor=request.actor, response=response)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the canned response “{response}”.")
    return redirect(_pages(personal)["list"], request.tenant.slug)
