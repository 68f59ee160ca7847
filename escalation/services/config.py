"""The tenant admin's changes to calendars, SLA targets and escalation policies, for the
settings pages and the API alike: every rule about what may be stored is checked here.

Changes apply to clocks started or re-targeted afterwards (and to climbs from their next
level): a running clock keeps the deadline it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from escalation.calendars import WEEKDAYS, CalendarError, add_business_seconds, parse_hhmm
from escalation.models import (
    BusinessCalendar,
    CalendarHoliday,
    EscalationLevel,
    EscalationPolicy,
    NotifyKind,
    SlaClock,
    SlaPolicy,
)
from escalation.services.config_words import (
    calendar_words,
    days_off_words,
    escalation_words,
    sla_label,
    sla_words,
    stored_levels,
)
from escalation.services.defaults import calendar_spec
from incidents.models import AssignmentGroup, HoldReason
from incidents.rules import check_admin
from incidents.selectors.config import staff_users
from incidents.services.audited import audit_change
from oncall.models import Schedule
from tenancy.actors import Actor
from tenancy.config_stamp import config_write
from tenancy.errors import Conflict, InvalidInput
from tenancy.services import check_time_zone

# A target or wait longer than a year is a typing mistake, and would make every clock on it
# walk the calendar for centuries.
MAX_SECONDS = 366 * 24 * 3600
MAX_WARNINGS = 10
MAX_LEVELS = 10
MAX_REPEATS = 20
NOT_STAFF = "Not an active agent, manager or admin of this desk."


class InUse(Conflict):
    """The object is still referred to and cannot go (the API answers 409)."""


# --- calendars ----------------------------------------------------------------------------------


def check_holidays(country: str, subdivision: str) -> None:
    """The country (ISO code) and region must name a list the `holidays` package has."""
    import holidays

    if not country:
        if subdivision:
            raise InvalidInput("A region needs its country.", field="holiday_subdivision")
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        raise InvalidInput(
            f"No holiday list for {country!r}; use an ISO country code.", field="holiday_country"
        )
    if subdivision and subdivision not in supported[country]:
        regions = ", ".join(supported[country])
        raise InvalidInput(
            f"{country} has no region {subdivision!r}; choose one of {regions}.",
            field="holiday_subdivision",
        )


def _check_hours(weekly: dict[str, list[list[str]]]) -> None:
    for day, spans in weekly.items():
        last = -1
        for a, b in spans:
            try:
                start, end = parse_hhmm(a), parse_hhmm(b)
            except ValueError as exc:
                raise InvalidInput(str(exc), field=f"day_{day}") from None
            if end <= start or start < last:
                raise InvalidInput(
                    "Each span ends after it starts, in order through the day, without overlap.",
                    field=f"day_{day}",
                )
            last = end


def _check_calendar(calendar: BusinessCalendar, days_off: list[tuple[date, str]]) -> None:
    if not calendar.name.strip():
        raise InvalidInput("Give the calendar a name.", field="name")
    check_time_zone(calendar.time_zone, field="time_zone")
    check_holidays(calendar.holiday_country, calendar.holiday_subdivision)
    if set(calendar.weekly_hours) - {str(d) for d in range(len(WEEKDAYS))}:
        raise InvalidInput("Weekly hours are keyed by weekday, 0 (Monday) to 6.", field="day_0")
    _check_hours(calendar.weekly_hours)
    seen: set[date] = set()
    longest = CalendarHoliday._meta.get_field("name").max_length
    assert longest is not None  # the name is a CharField, which always has its max_length
    for day, name in days_off:
        if day in seen:
            raise InvalidInput(f"{day.isoformat()} is listed twice.", field="days_off")
        if len(name) > longest:
            raise InvalidInput(
                f"The name of {day.isoformat()} is {len(name)} characters long; {longest} at most.",
                field="days_off",
            )
        seen.add(day)


@config_write
def calendar_save(
    *,
    actor: Actor,
    calendar: BusinessCalendar | None,
    values: dict[str, Any],
    days_off: list[tuple[date, str]],
) -> BusinessCalendar:
    """Create or change a calendar and replace its own days off."""
    check_admin(actor, "change SLA settings")
    was_default = calendar is not None and calendar.is_default
    calendar = calendar or BusinessCalendar(tenant=actor.tenant)
    before = _calendar_all(calendar) if calendar.pk else {}
    for name, value in values.items():
        setattr(calendar, name, value)
    _check_calendar(calendar, days_off)
    if was_default and not calendar.is_default:
        raise InvalidInput(
            "The desk always has a default calendar: make another one the default instead.",
            field="is_default",
        )
    if calendar.is_default:
        BusinessCalendar.objects.for_tenant(actor.tenant).exclude(pk=calendar.pk).update(
            is_default=False
        )
    try:
        with transaction.atomic():
            calendar.save()
    except IntegrityError:
        raise InvalidInput("Another calendar has this name.", field="name") from None
    CalendarHoliday.objects.for_tenant(actor.tenant).filter(calendar=calendar).delete()
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(tenant=actor.tenant, calendar=calendar, date=day, name=name)
        for day, name in days_off
    )
    try:  # a calendar that can never count a second would hang every clock on it
        add_business_seconds(calendar_spec(calendar), timezone.now(), 1)
    except CalendarError:
        raise InvalidInput("Give the calendar some working hours.", field="day_0") from None
    action = "calendar.changed" if before else "calendar.created"
    after = _calendar_all(calendar)
    audit_change(actor=actor, action=action, target=calendar, before=before, after=after)
    return calendar


def _calendar_all(calendar: BusinessCalendar) -> dict[str, Any]:
    return {**calendar_words(calendar), "days_off": days_off_words(calendar)}


def _calendar_users(calendar: BusinessCalendar) -> str | None:
    """Why the calendar must stay, or None when nothing counts in it."""
    tenant = calendar.tenant_id
    if calendar.is_default:
        return "This is the desk's default calendar: make another one the default first."
    levels = SlaPolicy.objects.for_tenant(tenant).filter(calendar=calendar)
    labels = list(levels.order_by("priority__rank").values_list("priority__label", flat=True))
    if labels:
        return f"The SLA targets of {', '.join(labels)} count in this calendar; move them first."
    names = list(
        EscalationPolicy.objects.for_tenant(tenant)
        .filter(calendar=calendar)
        .values_list("name", flat=True)
    )
    if names:
        return f"The escalation policies {', '.join(names)} count in this calendar."
    if SlaClock.objects.for_tenant(tenant).filter(calendar=calendar).exists():
        return "Incidents' SLA clocks were counted in this calendar; it is kept for them."
    return None


@config_write
def calendar_delete(*, actor: Actor, calendar: BusinessCalendar) -> None:
    """Delete a calendar nothing counts in; anything else is refused with the reason."""
    check_admin(actor, "change SLA settings")
    calendar = (
        BusinessCalendar.objects.for_tenant(actor.tenant).select_for_update().get(pk=calendar.pk)
    )
    reason = _calendar_users(calendar)
    if reason:
        raise InUse(reason)
    before = {"name": calendar.name}
    target_id = calendar.pk
    try:
        with transaction.atomic():
            calendar.delete()
    except ProtectedError:  # a clock started on it meanwhile
        raise InUse("Incidents' SLA clocks were counted in this calendar.") from None
    calendar.pk = target_id  # the record names the calendar that went
    audit_change(
        actor=actor, action="calendar.deleted", target=calendar, before=before, always=True
    )


# --- SLA targets --------------------------------------------------------------------------------


def _check_seconds(value: int, field: str, what: str) -> None:
    if not 0 < value <= MAX_SECONDS:
        raise InvalidInput(f"{what} is between 1 second and 366 days.", field=field)


def _check_percents(percents: list[int]) -> None:
    if any(not 0 < p < 100 for p in percents):
        raise InvalidInput("Warnings are percentages between 1 and 99.", field="warn_percents")
    if any(a >= b for a, b in zip(percents, percents[1:], strict=False)):
        raise InvalidInput(
            "List the warnings in increasing order, each once.", field="warn_percents"
        )
    if len(percents) > MAX_WARNINGS:
        raise InvalidInput(f"At most {MAX_WARNINGS} warnings.", field="warn_percents")


@config_write
def sla_policy_save(*, actor: Actor, policy: SlaPolicy, values: dict[str, Any]) -> SlaPolicy:
    check_admin(actor, "change SLA settings")
    if values["calendar"].tenant_id != actor.tenant.pk:
        raise InvalidInput("Choose one of the desk's calendars.", field="calendar")
    _check_seconds(values["response_seconds"], "response_seconds", "A response target")
    _check_seconds(values["resolution_seconds"], "resolution_seconds", "A resolution target")
    _check_percents(values["warn_percents"])
    unknown = set(values["pause_on"]) - set(HoldReason.values)
    if unknown:
        raise InvalidInput("Choose hold kinds from the list.", field="pause_on")
    before = sla_words(policy) if policy.pk else {}
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    action = "sla_policy.changed" if before else "sla_policy.created"
    audit_change(
        actor=actor,
        action=action,
        target=policy,
        target_label=sla_label(policy),
        before=before,
        after=sla_words(policy),
    )
    return policy


# --- escalation policies ------------------------------------------------------------------------


@dataclass
class LevelInput:
    after_seconds: int
    notify: str
    user_id: int | None = None
    schedule_id: int | None = None


def _check_levels(actor: Actor, levels: list[LevelInput]) -> None:
    if not levels:
        raise InvalidInput("A policy needs at least one level.", field="levels")
    if len(levels) > MAX_LEVELS:
        raise InvalidInput(f"A policy has at most {MAX_LEVELS} levels.", field="levels")
    staff = set(
        staff_users(actor.tenant)
        .filter(pk__in=[lvl.user_id for lvl in levels if lvl.user_id])
        .values_list("pk", flat=True)
    )
    for i, lvl in enumerate(levels):
        where = f"levels[{i}]"
        _check_seconds(lvl.after_seconds, f"{where}.after_seconds", "A level's wait")
        if lvl.notify not in NotifyKind.values:
            raise InvalidInput("Choose whom the level notifies.", field=f"{where}.notify")
        if lvl.notify == NotifyKind.USER and not lvl.user_id:
            raise InvalidInput("Name the person a level notifies.", field=f"{where}.user")
        if lvl.notify != NotifyKind.USER and lvl.user_id:
            raise InvalidInput(
                "Only a level that notifies a named person names one.", field=f"{where}.user"
            )
        if lvl.user_id and lvl.user_id not in staff:
            raise InvalidInput(NOT_STAFF, field=f"{where}.user")
        _check_schedule(actor, lvl, where)


def _check_schedule(actor: Actor, lvl: LevelInput, where: str) -> None:
    """A level that pages whoever is on call names one of the desk's schedules."""
    if lvl.notify == NotifyKind.SCHEDULE and not lvl.schedule_id:
        raise InvalidInput("Name the schedule whose on-call person the level pages.",
                           field=f"{where}.schedule")  # fmt: skip
    if lvl.notify != NotifyKind.SCHEDULE and lvl.schedule_id:
        raise InvalidInput(
            "Only a level that pages whoever is on call names a schedule.",
            field=f"{where}.schedule",
        )
    found = Schedule.objects.for_tenant(actor.tenant).filter(pk=lvl.schedule_id)
    if lvl.schedule_id and not found.exists():
        raise InvalidInput("Choose one of the desk's on-call schedules.", field=f"{where}.schedule")


def _check_policy(actor: Actor, policy: EscalationPolicy) -> None:
    if not policy.name.strip():
        raise InvalidInput("Give the policy a name.", field="name")
    if not 0 <= policy.repeat_count <= MAX_REPEATS:
        raise InvalidInput(f"Repeat 0 to {MAX_REPEATS} times.", field="repeat_count")
    tenant = actor.tenant.pk
    if (
        policy.group_id
        and not AssignmentGroup.objects.for_tenant(tenant).filter(pk=policy.group_id).exists()
    ):
        raise InvalidInput("Choose one of the desk's groups.", field="group")
    if (
        policy.calendar_id
        and not BusinessCalendar.objects.for_tenant(tenant).filter(pk=policy.calendar_id).exists()
    ):
        raise InvalidInput("Choose one of the desk's calendars.", field="calendar")


@config_write
def escalation_policy_save(
    *,
    actor: Actor,
    policy: EscalationPolicy | None,
    values: dict[str, Any],
    levels: list[LevelInput],
) -> EscalationPolicy:
    """Create or change a policy; its levels are replaced by `levels`, in order."""
    check_admin(actor, "change SLA settings")
    _check_levels(actor, levels)
    policy = policy or EscalationPolicy(tenant=actor.tenant)
    before = escalation_words(policy, stored_levels(policy)) if policy.pk else {}
    for name, value in values.items():
        setattr(policy, name, value)
    _check_policy(actor, policy)
    try:
        with transaction.atomic():
            policy.save()
    except IntegrityError:
        what = "this group" if policy.group_id else "the whole desk"
        raise InvalidInput(f"There is already a policy for {what}.", field="group") from None
    EscalationLevel.objects.for_tenant(actor.tenant).filter(policy=policy).delete()
    EscalationLevel.objects.bulk_create(
        EscalationLevel(
            tenant=actor.tenant,
            policy=policy,
            position=i,
            after_seconds=lvl.after_seconds,
            notify=lvl.notify,
            user_id=lvl.user_id,
            schedule_id=lvl.schedule_id,
        )
        for i, lvl in enumerate(levels, start=1)
    )
    action = "escalation_policy.changed" if before else "escalation_policy.created"
    after = escalation_words(policy, stored_levels(policy))
    audit_change(actor=actor, action=action, target=policy, before=before, after=after)
    return policy


@config_write
def escalation_policy_delete(*, actor: Actor, policy: EscalationPolicy) -> None:
    """Delete a policy and its levels. Climbs running on it finish at their next step; new
    escalations follow the group's other policy or the desk-wide one."""
    check_admin(actor, "change SLA settings")
    found = (
        EscalationPolicy.objects.for_tenant(actor.tenant)
        .select_for_update()
        .filter(pk=policy.pk)
        .first()
    )
    if found is None:  # gone meanwhile: nothing to delete, nothing to record
        return
    before = escalation_words(found, stored_levels(found))
    found.delete()
    found.pk = policy.pk  # the record names the policy that went
    audit_change(
        actor=actor, action="escalation_policy.deleted", target=found, before=before, always=True
    )
