"""Reads of the schedules, always inside the tenant, and who is on call (oncall/rotation.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from oncall import rotation
from oncall.models import Layer, LayerMember, Override, Schedule
from oncall.rotation import LayerSpec, OverrideSpec, ScheduleSpec, Shift
from tenancy.actors import Actor
from tenancy.models import Tenant, User

# How far back and ahead the schedule's overrides are read for a window.
OVERRIDE_SLACK = timedelta(days=1)


def schedules_in(tenant: Tenant | int) -> QuerySet[Schedule]:
    members = LayerMember.objects.order_by("position").select_related("user")
    layers = Layer.objects.order_by("position").prefetch_related(Prefetch("members", members))
    return (
        Schedule.objects.for_tenant(tenant)
        .select_related("fallback")
        .prefetch_related(Prefetch("layers", layers))
        .order_by("name")
    )


def schedules_for_actor(*, actor: Actor) -> QuerySet[Schedule]:
    """The desk's schedules, for its staff (requesters see none)."""
    if not actor.is_agent_or_above:
        return Schedule.objects.none()
    return schedules_in(actor.tenant)


def schedule_for_actor(*, actor: Actor, pk: int) -> Schedule:
    found = schedules_for_actor(actor=actor).filter(pk=pk).first()
    if found is None:
        raise Http404("No such schedule here.")
    return found


def layer_spec(layer: Layer) -> LayerSpec:
    return LayerSpec(
        position=layer.position,
        name=layer.name,
        members=tuple(m.user_id for m in layer.members.all()),
        rotation=layer.rotation,
        shift_hours=layer.shift_hours,
        rotation_start=layer.rotation_start,
        handoff_time=layer.handoff_time,
        restrict_days=frozenset(layer.restrict_days or ()),
        restrict_start=layer.restrict_start,
        restrict_end=layer.restrict_end,
    )


def schedule_spec(schedule: Schedule, start: datetime, end: datetime) -> ScheduleSpec:
    """The schedule as the pure functions read it, with the overrides that touch the window."""
    overrides = Override.objects.for_tenant(schedule.tenant_id).filter(
        schedule=schedule, ends_at__gt=start - OVERRIDE_SLACK, starts_at__lt=end + OVERRIDE_SLACK
    )
    return ScheduleSpec(
        time_zone=schedule.time_zone,
        layers=tuple(layer_spec(layer) for layer in schedule.layers.all()),
        overrides=tuple(
            OverrideSpec(o.user_id, o.starts_at, o.ends_at, order=o.pk) for o in overrides
        ),
    )


@dataclass(frozen=True)
class OnCall:
    """Who is on call in a schedule at an instant, until when, and why."""

    schedule: Schedule
    at: datetime
    user: User | None
    until: datetime | None
    layer: str
    override: bool


def on_call(schedule: Schedule, at: datetime | None = None) -> OnCall:
    at = at or timezone.now()
    horizon = at + timedelta(days=35)
    found = rotation.shifts(schedule_spec(schedule, at, horizon), at, horizon)
    first: Shift | None = found[0] if found and found[0].start == at else None
    if first is None:
        return OnCall(schedule, at, None, found[0].start if found else None, "", False)
    user = User.objects.filter(pk=first.user_id).first()
    until = first.end if first.end < horizon else None
    return OnCall(schedule, at, user, until, first.layer, first.override)


def schedule_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    return rotation.shifts(schedule_spec(schedule, start, end), start, end)


def people_by_id(ids: set[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=ids)}


def upcoming_overrides(schedule: Schedule, now: datetime | None = None) -> QuerySet[Override]:
    now = now or timezone.now()
    rows = Override.objects.for_tenant(schedule.tenant_id).filter(
        schedule=schedule, ends_at__gt=now
    )
    return rows.select_related("user").order_by("starts_at", "id")
