"""The tenant admin's changes to calendars, SLA targets and escalation policies.

Changes apply to clocks started or re-targeted afterwards (and to climbs from their next
level): a running clock keeps the deadline it was given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from escalation.calendars import CalendarError, add_business_seconds, parse_hhmm
from escalation.models import (
    BusinessCalendar,
    CalendarHoliday,
    EscalationLevel,
    EscalationPolicy,
    SlaPolicy,
)
from escalation.services.defaults import calendar_spec
from incidents.errors import InvalidInput, NotAllowed
from incidents.models import HoldReason
from tenancy.actors import Actor


def _check_admin(actor: Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise NotAllowed("Only a tenant admin can change SLA settings.")


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
                    "Each span ends after it starts, in order through the day.", field=f"day_{day}"
                )
            last = end


@transaction.atomic
def calendar_save(
    *,
    actor: Actor,
    calendar: BusinessCalendar | None,
    values: dict[str, Any],
    days_off: list[tuple[date, str]],
) -> BusinessCalendar:
    """Create or change a calendar and replace its own days off."""
    _check_admin(actor)
    _check_hours(values.get("weekly_hours", {}))
    calendar = calendar or BusinessCalendar(tenant=actor.tenant)
    for name, value in values.items():
        setattr(calendar, name, value)
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
        for day, name in dict(days_off).items()
    )
    try:  # a calendar that can never count a second would hang every clock on it
        add_business_seconds(calendar_spec(calendar), timezone.now(), 1)
    except CalendarError:
        raise InvalidInput("Give the calendar some working hours.", field="day_0") from None
    return calendar


def _check_percents(percents: list[int]) -> None:
    if any(not 0 < p < 100 for p in percents):
        raise InvalidInput("Warnings are percentages between 1 and 99.", field="warn_percents")


@transaction.atomic
def sla_policy_save(*, actor: Actor, policy: SlaPolicy, values: dict[str, Any]) -> SlaPolicy:
    _check_admin(actor)
    if values["calendar"].tenant_id != actor.tenant.pk:
        raise InvalidInput("Choose one of the desk's calendars.", field="calendar")
    if values["response_seconds"] <= 0 or values["resolution_seconds"] <= 0:
        raise InvalidInput("Targets are at least one second.", field="response_seconds")
    _check_percents(values["warn_percents"])
    unknown = set(values["pause_on"]) - set(HoldReason.values)
    if unknown:
        raise InvalidInput("Choose hold kinds from the list.", field="pause_on")
    for name, value in values.items():
        setattr(policy, name, value)
    policy.save()
    return policy


@dataclass
class LevelInput:
    after_seconds: int
    notify: str
    user_id: int | None = None


@transaction.atomic
def escalation_policy_save(
    *,
    actor: Actor,
    policy: EscalationPolicy | None,
    values: dict[str, Any],
    levels: list[LevelInput],
) -> EscalationPolicy:
    """Create or change a policy; its levels are replaced by `levels`, in order."""
    _check_admin(actor)
    if not levels:
        raise InvalidInput("A policy needs at least one level.", field="levels")
    if any(lvl.notify == "user" and not lvl.user_id for lvl in levels):
        raise InvalidInput("Name the person a level notifies.", field="levels")
    policy = policy or EscalationPolicy(tenant=actor.tenant)
    for name, value in values.items():
        setattr(policy, name, value)
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
        )
        for i, lvl in enumerate(levels, start=1)
    )
    return policy
