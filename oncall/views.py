"""The on-call pages: the schedules with who is on call now, a schedule's calendar with its
layers and overrides, and the iCalendar feed. Thin: fetch scoped, call one service, render.
A schedule's page shows and reads times in the schedule's own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncall import services
from oncall.forms import LayerForm, OverrideForm, ScheduleForm
from oncall.ical import ical_feed, ical_person, ical_url
from oncall.models import Layer, Override, Schedule
from oncall.rotation import Shift
from oncall.selectors import (
    on_call,
    people_by_id,
    schedule_for_actor,
    schedule_shifts,
    schedules_for_actor,
    upcoming_overrides,
)
from tenancy.decorators import staff_required, tenant_public
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest

DEFAULT_WEEKS, MAX_WEEKS = 2, 6


def _detail_url(request: TenantRequest, schedule: Schedule) -> str:
    return reverse("oncall-schedule-detail", args=[request.tenant.slug, schedule.pk])


@require_http_methods(["GET", "POST"])
@staff_required
def schedule_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = ScheduleForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            schedule = services.schedule_save(
                actor=request.actor,
                schedule=None,
                name=data["name"],
                time_zone=data["time_zone"].strip(),
                fallback_id=data["fallback"].pk if data["fallback"] else None,
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"The schedule {schedule.name} is created.")
            return redirect(_detail_url(request, schedule))
    schedules = list(schedules_for_actor(actor=request.actor))
    rows = [on_call(s) for s in schedules]
    context = {"rows": rows, "form": form, "may_manage": request.actor.is_manager}
    return render(request, "oncall/schedule_list.html", context, status=400 if form.errors else 200)


@dataclass
class CalendarDay:
    day: date
    shifts: list[tuple[Shift, str]]  # the shift clipped to the day, and who


def _calendar(schedule: Schedule, tz: ZoneInfo, weeks: int) -> list[CalendarDay]:
    """The next `weeks` weeks, a row per local day, each with the shifts that touch it."""
    today = timezone.now().astimezone(tz).date()
    first = datetime.combine(today, datetime.min.time(), tzinfo=tz)
    days = [today + timedelta(days=i) for i in range(weeks * 7)]
    edges = [datetime.combine(d, datetime.min.time(), tzinfo=tz) for d in days]
    end = datetime.combine(days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    found = schedule_shifts(schedule, first, end)
    names = people_by_id({s.user_id for s in found})
    rows = []
    for day, start in zip(days, edges, strict=True):
        stop = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        clipped = [
            (
                Shift(max(s.start, start), min(s.end, stop), s.user_id, s.layer, s.override),
                names[s.user_id].display_name if s.user_id in names else "?",
            )
            for s in found
            if s.start < stop and s.end > start
        ]
        rows.append(CalendarDay(day, clipped))
    return rows


def _weeks(request: TenantRequest) -> int:
    try:
        return min(max(int(request.GET.get("weeks", DEFAULT_WEEKS)), 1), MAX_WEEKS)
    except ValueError:
        return DEFAULT_WEEKS


def render_detail(
    request: TenantRequest, schedule: Schedule, bound: dict[str, forms.Form] | None = None
) -> HttpResponse:
    bound = bound or {}
    tz = ZoneInfo(schedule.time_zone)
    timezone.activate(tz)
    tenant, weeks = request.tenant, _weeks(request)
    context = {
        "schedule": schedule,
        "now": on_call(schedule),
        "weeks": weeks,
        "calendar": _calendar(schedule, tz, weeks),
        "layers": schedule.layers.all(),
        "overrides": upcoming_overrides(schedule),
        "override_form": bound.get("override") or OverrideForm(tenant=tenant),
        "layer_form": bound.get("layer") or LayerForm(tenant=tenant),
        "schedule_form": bound.get("schedule") or _schedule_form(schedule, tenant),
        "may_manage": request.actor.is_manager,
        "ical_url": ical_url(tenant, request.user),
    }
    status = 400 if bound else 200
    return render(request, "oncall/schedule_detail.html", context, status=status)


def _schedule_form(schedule: Schedule, tenant) -> ScheduleForm:
    initial = {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "fallback": schedule.fallback_id,
    }
    return ScheduleForm(initial=initial, tenant=tenant)


@require_GET
@staff_required
def schedule_detail(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    return render_detail(request, schedule_for_actor(actor=request.actor, pk=pk))


def _attempt(request, schedule: Schedule, key: str, form: forms.Form, run, done: str):
    """Call the service if the form holds; a refusal shows beside what was typed."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, done)
            return redirect(_detail_url(request, schedule))
    return render_detail(request, schedule, {key: form})


@require_POST
@staff_required
def schedule_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    schedule = schedule_for_actor(actor=request.actor, pk=pk)
    timezone.activate(ZoneInfo(schedule.time_zone))
    form = ScheduleForm(request.POST, tenant=request.tenant)

    def run(data: dict) -> None:
        services.schedule_save(
            actor=request.actor,
            schedule=schedule,
            name=data["name"],
            time_zone=data["time_zone"].strip(),
            fallback_id=data["fallback"].pk if data["fallback"] else None,
            description=schedule.description,
        )

    return _attempt(request, schedule, "schedule", form, run, "The schedule is saved.")


@require_POST
@staff_required
def override_add(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    schedule = schedule_for_actor(actor=request.actor, pk=pk)
    # The form's times are the schedule's local times.
    timezone.activate(ZoneInfo(schedule.time_zone))
    form = OverrideForm(request.POST, tenant=request.tenant)

    def run(data: dict) -> None:
        services.override_add(
            actor=request.actor,
            schedule=schedule,
            user_id=data["user"].pk,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            note=data["note"],
        )

    return _attempt(request, schedule, "override", form, run, "The override is added.")


@require_POST
@staff_required
def override_remove(request: TenantRequest, tenant_slug: str, pk: int, override_pk: int):
    schedule = schedule_for_actor(actor=request.actor, pk=pk)
    found = Override.objects.for_tenant(request.tenant).filter(schedule=schedule, pk=override_pk)
    override = found.first()
    if override is None:
        raise Http404("No such override here.")
    remove = partial(services.override_remove, actor=request.actor, override=override)
    return _removed(request, schedule, remove, "The override is removed.")


def _removed(request: TenantRequest, schedule, remove, done: str) -> HttpResponse:
    """Run a removal; its refusal or success as a message on the schedule's page."""
    try:
        remove()
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(_detail_url(request, schedule))


@require_POST
@staff_required
def layer_add(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    schedule = schedule_for_actor(actor=request.actor, pk=pk)
    form = LayerForm(request.POST, tenant=request.tenant)

    def run(data: dict) -> None:
        layer = services.LayerInput(
            name=data["name"],
            members=data["members"],
            rotation=data["rotation"],
            rotation_start=data["rotation_start"],
            handoff_time=data["handoff_time"],
            shift_hours=data["shift_hours"] or 24,
            restrict_days=data["restrict_days"],
            restrict_start=data["restrict_start"],
            restrict_end=data["restrict_end"],
        )
        services.layer_add(actor=request.actor, schedule=schedule, data=layer)

    return _attempt(request, schedule, "layer", form, run, "The layer is added.")


@require_POST
@staff_required
def layer_remove(request: TenantRequest, tenant_slug: str, pk: int, layer_pk: int):
    schedule = schedule_for_actor(actor=request.actor, pk=pk)
    layer = Layer.objects.for_tenant(request.tenant).filter(schedule=schedule, pk=layer_pk).first()
    if layer is None:
        raise Http404("No such layer here.")
    remove = partial(services.layer_remove, actor=request.actor, layer=layer)
    return _removed(request, schedule, remove, "The layer is removed.")


@require_GET
@tenant_public
def ical(request, tenant_slug: str, token: str) -> HttpResponse:
    tenant, user = ical_person(tenant_slug=tenant_slug, token=token)
    response = HttpResponse(ical_feed(tenant, user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
