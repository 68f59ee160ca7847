"""Tenant admin pages for calendars, SLA targets and escalation policies.

Under /t/<slug>/settings/sla/, for admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from escalation.models import BusinessCalendar, EscalationPolicy, SlaPolicy
from escalation.selectors.sla import sla_policies_for_tenant
from escalation.services.config import (
    LevelInput,
    calendar_save,
    escalation_policy_save,
    sla_policy_save,
)
from escalation.views.sla_forms import (
    CalendarForm,
    EscalationPolicyForm,
    LevelFormSet,
    SlaPolicyForm,
)
from tenancy.decorators import admin_required
from tenancy.errors import InvalidInput, Refusal
from tenancy.http import TenantRequest


def _refused(form, exc: Refusal) -> None:
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


@admin_required
def calendar_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    calendars = BusinessCalendar.objects.for_tenant(request.tenant).order_by("name")
    return render(request, "escalation/settings/calendar_list.html", {"calendars": calendars})


@admin_required
def calendar_edit(request: TenantRequest, tenant_slug: str, pk: int | None = None) -> HttpResponse:
    calendars = BusinessCalendar.objects.for_tenant(request.tenant)
    calendar = get_object_or_404(calendars, pk=pk) if pk else None
    initial = (
        CalendarForm.initial_for(calendar)
        if calendar
        else {"time_zone": request.tenant.time_zone, "day_0": "09:00-17:00"}
    )
    form = CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            calendar_save(
                actor=request.actor,
                calendar=calendar,
                values=form.values(),
                days_off=form.cleaned_data["days_off"],
            )
            messages.success(request, "Calendar saved.")
            return redirect("escalation-calendar-list", tenant_slug=tenant_slug)
        except Refusal as exc:
            _refused(form, exc)
    days = [form[f"day_{d}"] for d in range(7)]
    return render(
        request,
        "escalation/settings/calendar_form.html",
        {"form": form, "calendar": calendar, "days": days},
    )


@admin_required
def sla_policy_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    policies = sla_policies_for_tenant(request.tenant)  # creates defaults for new levels
    return render(request, "escalation/settings/policy_list.html", {"policies": policies})


@admin_required
def sla_policy_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    policy = get_object_or_404(
        SlaPolicy.objects.for_tenant(request.tenant).select_related("priority"), pk=pk
    )
    initial = {
        "calendar": policy.calendar,
        "response_seconds": policy.response_seconds,
        "resolution_seconds": policy.resolution_seconds,
        "pause_on": policy.pause_on,
        "warn_percents": ", ".join(str(p) for p in policy.warn_percents),
    }
    form = SlaPolicyForm(request.POST or None, initial=initial, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            sla_policy_save(actor=request.actor, policy=policy, values=form.cleaned_data)
            messages.success(request, f"Targets of {policy.priority.label} saved.")
            return redirect("escalation-policy-list", tenant_slug=tenant_slug)
        except Refusal as exc:
            _refused(form, exc)
    return render(request, "escalation/settings/policy_form.html", {"form": form, "policy": policy})


@admin_required
def escalation_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    policies = (
        EscalationPolicy.objects.for_tenant(request.tenant)
        .select_related("group", "calendar")
        .prefetch_related("levels__user", "levels__schedule")
    )
    return render(request, "escalation/settings/escalation_list.html", {"policies": policies})


def _level_inputs(formset) -> list[LevelInput]:
    return [
        LevelInput(
            f.cleaned_data["after_seconds"],
            f.cleaned_data["notify"],
            f.cleaned_data["user"].pk if f.cleaned_data.get("user") else None,
            f.cleaned_data["schedule"].pk if f.cleaned_data.get("schedule") else None,
        )
        for f in formset.forms
        if f.cleaned_data.get("notify")
    ]


@admin_required
def escalation_edit(
    request: TenantRequest, tenant_slug: str, pk: int | None = None
) -> HttpResponse:
    policy = (
        get_object_or_404(EscalationPolicy.objects.for_tenant(request.tenant), pk=pk)
        if pk
        else None
    )
    initial = (
        {f: getattr(policy, f) for f in ("name", "group", "repeat_count", "calendar", "is_active")}
        if policy
        else {}
    )
    levels = (
        [
            {
                "after_seconds": lvl.after_seconds,
                "notify": lvl.notify,
                "user": lvl.user,
                "schedule": lvl.schedule,
            }  # fmt: skip
            for lvl in policy.levels.all()
        ]
        if policy
        else []
    )
    form = EscalationPolicyForm(request.POST or None, initial=initial, tenant=request.tenant)
    formset = LevelFormSet(
        request.POST or None,
        initial=levels,
        prefix="levels",
        form_kwargs={"tenant": request.tenant},
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            escalation_policy_save(
                actor=request.actor,
                policy=policy,
                values=form.cleaned_data,
                levels=_level_inputs(formset),
            )
            messages.success(request, "Escalation policy saved.")
            return redirect("escalation-escalation-list", tenant_slug=tenant_slug)
        except InvalidInput as exc:
            _refused(form, exc)
    return render(
        request,
        "escalation/settings/escalation_form.html",
        {"form": form, "formset": formset, "policy": policy},
    )
