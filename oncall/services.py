"""Changes to on-call schedules: each checked, made in one transaction and audited.

Managers and admins shape schedules (create, change, layers); any of the desk's staff may add
an override, as PagerDuty lets a responder hand over a shift, and remove one they added."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError

from incidents.selectors.config import staff_users
from oncall.models import Layer, LayerMember, Override, Rotation, Schedule
from oncall.rotation import MIN_CUSTOM_HOURS
from tenancy.actors import Actor
from tenancy.audit import audit_change, audit_record
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import User
from tenancy.services import check_time_zone

MAX_LAYERS = 10
MAX_MEMBERS = 50
MAX_CUSTOM_HOURS = 24 * 28
NOT_STAFF = "Choose one of the desk's agents, managers or admins."


def _check_manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise NotAllowed("Only managers and admins can change on-call schedules.")


def _check_staff_ids(actor: Actor, ids: list[int], field_name: str) -> None:
    known = set(staff_users(actor.tenant).filter(pk__in=ids).values_list("pk", flat=True))
    if any(i not in known for i in ids):
        raise InvalidInput(NOT_STAFF, field=field_name)


def schedule_words(schedule: Schedule) -> dict[str, Any]:
    fallback = schedule.fallback
    return {
        "name": schedule.name,
        "time zone": schedule.time_zone,
        "fallback": fallback.email if fallback else "the desk's managers",
    }


@transaction.atomic
def schedule_save(
    *,
    actor: Actor,
    schedule: Schedule | None,
    name: str,
    time_zone: str,
    fallback_id: int | None = None,
    description: str = "",
) -> Schedule:
    """Create a schedule, or change its name, time zone, fallback and description."""
    _check_manager(actor)
    if not name.strip():
        raise InvalidInput("Give the schedule a name.", field="name")
    check_time_zone(time_zone)
    if fallback_id is not None:
        _check_staff_ids(actor, [fallback_id], "fallback")
    if schedule is not None:
        schedule = Schedule.objects.for_tenant(actor.tenant).select_for_update().get(pk=schedule.pk)
    created = schedule is None
    schedule = schedule or Schedule(tenant=actor.tenant)
    before = {} if created else schedule_words(schedule)
    schedule.name, schedule.time_zone = name.strip(), time_zone
    schedule.fallback_id, schedule.description = fallback_id, description
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:
        raise InvalidInput("There is already a schedule of that name.", field="name") from None
    schedule.refresh_from_db(fields=["fallback"])
    action = "oncall_schedule.created" if created else "oncall_schedule.changed"
    audit_change(
        actor=actor, action=action, target=schedule, before=before, after=schedule_words(schedule)
    )
    return schedule


@transaction.atomic
def schedule_delete(*, actor: Actor, schedule: Schedule) -> None:
    _check_manager(actor)
    words = schedule_words(schedule)
    pk = schedule.pk
    try:
        with transaction.atomic():
            Schedule.objects.for_tenant(actor.tenant).filter(pk=pk).delete()
    except ProtectedError:
        raise InvalidInput(
            "An escalation policy pages this schedule: change its level first.", field="name"
        ) from None
    schedule.pk = pk
    audit_change(
        actor=actor, action="oncall_schedule.deleted", target=schedule, before=words, always=True
    )


@dataclass
class LayerInput:
    name: str
    members: list[int]
    rotation: str
    rotation_start: date
    handoff_time: time
    shift_hours: int = 24
    restrict_days: list[int] = field(default_factory=list)
    restrict_start: time | None = None
    restrict_end: time | None = None


def _check_layer(actor: Actor, data: LayerInput) -> None:
    if not data.name.strip():
        raise InvalidInput("Give the layer a name.", field="name")
    if not data.members:
        raise InvalidInput(
            "Name at least one member, in the order they take turns.", field="members"
        )
    if len(data.members) > MAX_MEMBERS:
        raise InvalidInput(f"A layer has at most {MAX_MEMBERS} members.", field="members")
    _check_staff_ids(actor, data.members, "members")
    if data.rotation not in Rotation.values:
        raise InvalidInput("Choose daily, weekly or custom.", field="rotation")
    if data.rotation == Rotation.CUSTOM and not (
        MIN_CUSTOM_HOURS <= data.shift_hours <= MAX_CUSTOM_HOURS
    ):
        raise InvalidInput(
            f"A custom shift lasts {MIN_CUSTOM_HOURS} to {MAX_CUSTOM_HOURS} hours.",
            field="shift_hours",
        )
    if any(d not in range(7) for d in data.restrict_days):
        raise InvalidInput("Days are 0 (Monday) to 6 (Sunday).", field="restrict_days")
    if (data.restrict_start is None) != (data.restrict_end is None):
        raise InvalidInput("Give both ends of the hours, or neither.", field="restrict_end")
    if data.restrict_start is not None and data.restrict_start == data.restrict_end:
        raise InvalidInput(
            "The hours must not start and end at the same time.", field="restrict_end"
        )


def layer_words(layer: Layer, emails: list[str]) -> dict[str, Any]:
    length = f"{layer.shift_hours} hours" if layer.rotation == Rotation.CUSTOM else layer.rotation
    return {
        "layer": layer.name,
        "rotation": length,
        "handoff": f"{layer.rotation_start} {layer.handoff_time:%H:%M}",
        "members": emails,
    }


@transaction.atomic
def layer_add(*, actor: Actor, schedule: Schedule, data: LayerInput) -> Layer:
    """A new layer above the schedule's others (the highest wins where it has someone)."""
    _check_manager(actor)
    _check_layer(actor, data)
    locked = Schedule.objects.for_tenant(actor.tenant).select_for_update().get(pk=schedule.pk)
    layers = Layer.objects.for_tenant(actor.tenant).filter(schedule=locked)
    if layers.count() >= MAX_LAYERS:
        raise InvalidInput(f"A schedule has at most {MAX_LAYERS} layers.", field="name")
    top = layers.aggregate(top=Max("position"))["top"] or 0
    custom = data.rotation == Rotation.CUSTOM
    layer = Layer.objects.create(
        tenant=actor.tenant,
        schedule=locked,
        position=top + 1,
        name=data.name.strip(),
        rotation=data.rotation,
        shift_hours=data.shift_hours if custom else (24 if data.rotation == "daily" else 168),
        rotation_start=data.rotation_start,
        handoff_time=data.handoff_time,
        restrict_days=sorted(set(data.restrict_days)),
        restrict_start=data.restrict_start,
        restrict_end=data.restrict_end,
    )
    LayerMember.objects.bulk_create(
        LayerMember(tenant=actor.tenant, layer=layer, position=i, user_id=user_id)
        for i, user_id in enumerate(data.members, start=1)
    )
    emails = _emails(data.members)
    audit_record(
        actor=actor,
        action="oncall_layer.added",
        target=locked,
        after=layer_words(layer, emails),
    )
    return layer


def _emails(ids: list[int]) -> list[str]:
    by_id = dict(staff_emails(ids))
    return [by_id.get(i, "?") for i in ids]


def staff_emails(ids: list[int]) -> list[tuple[int, str]]:
    return list(User.objects.filter(pk__in=ids).values_list("pk", "email"))


@transaction.atomic
def layer_remove(*, actor: Actor, layer: Layer) -> None:
    _check_manager(actor)
    emails = list(layer.members.order_by("position").values_list("user__email", flat=True))
    words = layer_words(layer, emails)
    schedule = layer.schedule
    Layer.objects.for_tenant(actor.tenant).filter(pk=layer.pk).delete()
    audit_record(actor=actor, action="oncall_layer.removed", target=schedule, before=words)


def _override_words(o: Override, email: str) -> dict[str, Any]:
    return {"who": email, "from": o.starts_at.isoformat(), "until": o.ends_at.isoformat()}


@transaction.atomic
def override_add(
    *,
    actor: Actor,
    schedule: Schedule,
    user_id: int,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
) -> Override:
    """`user_id` covers the schedule from `starts_at` to `ends_at`, whoever the layers name."""
    if not actor.is_agent_or_above:
        raise NotAllowed("Only the desk's staff can cover a shift.")
    _check_staff_ids(actor, [user_id], "user")
    if ends_at <= starts_at:
        raise InvalidInput("The override must end after it starts.", field="ends_at")
    override = Override.objects.create(
        tenant=actor.tenant,
        schedule=schedule,
        user_id=user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note[:200],
        created_by=actor.user,
    )
    email = _emails([user_id])[0]
    audit_record(
        actor=actor,
        action="oncall_override.added",
        target=schedule,
        after=_override_words(override, email),
    )
    return override


@transaction.atomic
def override_remove(*, actor: Actor, override: Override) -> None:
    """Managers remove any override; others only the ones they added or cover."""
    mine = actor.user_id in (override.created_by_id, override.user_id)
    if not (actor.is_manager or (actor.is_agent_or_above and mine)):
        raise NotAllowed("Only a manager, or whoever added or covers it, can remove an override.")
    words = _override_words(override, _emails([override.user_id])[0])
    schedule = override.schedule
    Override.objects.for_tenant(actor.tenant).filter(pk=override.pk).delete()
    audit_record(actor=actor, action="oncall_override.removed", target=schedule, before=words)
