"""What a tenant starts with: two calendars, SLA targets per priority level and an escalation
policy; and the lookups that create a missing piece on first use, so tenants made before this
existed, and priority levels added later, still get clocks."""

from __future__ import annotations

from django.db import transaction

from escalation.calendars import CalendarSpec, always_open, holiday_lookup, parse_hhmm
from escalation.models import (
    BusinessCalendar,
    EscalationLevel,
    EscalationPolicy,
    NotifyKind,
    SlaPolicy,
)
from incidents.models import PriorityLevel
from tenancy.models import Tenant

MIN, HOUR = 60, 3600
BUSINESS_DAY = 8 * HOUR  # one working day of the default Monday-Friday 09:00-17:00 calendar
BUSINESS_CALENDAR = "Business hours"
AROUND_THE_CLOCK = "Around the clock"

# slug -> (response seconds, resolution seconds, around the clock?)
DEFAULT_TARGETS = {
    "critical": (15 * MIN, 4 * HOUR, True),
    "high": (30 * MIN, 8 * HOUR, False),
    "moderate": (4 * HOUR, 3 * BUSINESS_DAY, False),
    "medium": (4 * HOUR, 3 * BUSINESS_DAY, False),  # the default scale's middle level
    "low": (BUSINESS_DAY, 5 * BUSINESS_DAY, False),
    "planning": (2 * BUSINESS_DAY, 10 * BUSINESS_DAY, False),
}
# A level named otherwise takes the targets of its rank on the ITIL scale.
BY_RANK = ["critical", "high", "moderate", "low", "planning"]
DEFAULT_LEVELS = [(15 * MIN, NotifyKind.GROUP_LEAD), (30 * MIN, NotifyKind.MANAGER)]


def default_targets(level: PriorityLevel) -> tuple[int, int, bool]:
    slug = level.slug if level.slug in DEFAULT_TARGETS else BY_RANK[min(level.rank, 5) - 1]
    return DEFAULT_TARGETS[slug]


def default_calendar(tenant: Tenant) -> BusinessCalendar:
    found = BusinessCalendar.objects.for_tenant(tenant).filter(is_default=True).first()
    if found is not None:
        return found
    return BusinessCalendar.objects.get_or_create(
        tenant=tenant,
        name=BUSINESS_CALENDAR,
        defaults={"time_zone": tenant.time_zone, "is_default": True},
    )[0]


def around_the_clock_calendar(tenant: Tenant) -> BusinessCalendar:
    return BusinessCalendar.objects.get_or_create(
        tenant=tenant,
        name=AROUND_THE_CLOCK,
        defaults={"time_zone": tenant.time_zone, "always_open": True},
    )[0]


def sla_policy_for(level: PriorityLevel) -> SlaPolicy:
    policies = SlaPolicy.objects.for_tenant(level.tenant_id).select_related("calendar")
    policy = policies.filter(priority=level).first()
    if policy is not None:
        return policy
    response, resolution, round_the_clock = default_targets(level)
    tenant = level.tenant
    calendar = around_the_clock_calendar(tenant) if round_the_clock else default_calendar(tenant)
    return SlaPolicy.objects.get_or_create(
        tenant=tenant,
        priority=level,
        defaults={
            "calendar": calendar,
            "response_seconds": response,
            "resolution_seconds": resolution,
        },
    )[0]


@transaction.atomic
def sla_defaults_install(*, tenant: Tenant) -> None:
    default_calendar(tenant)
    around_the_clock_calendar(tenant)
    for level in PriorityLevel.objects.for_tenant(tenant).filter(is_active=True):
        sla_policy_for(level)
    if not EscalationPolicy.objects.for_tenant(tenant).filter(group=None).exists():
        policy = EscalationPolicy.objects.create(tenant=tenant, name="Desk-wide")
        EscalationLevel.objects.bulk_create(
            EscalationLevel(
                tenant=tenant, policy=policy, position=i, after_seconds=after, notify=notify
            )
            for i, (after, notify) in enumerate(DEFAULT_LEVELS, start=1)
        )


def calendar_spec(calendar: BusinessCalendar) -> CalendarSpec:
    """The pure description of a stored calendar (one query for the tenant's own days off)."""
    from zoneinfo import ZoneInfo

    if calendar.always_open:
        return always_open(calendar.name)
    own = dict(calendar.days_off.values_list("date", "name"))
    weekly = tuple(
        tuple((parse_hhmm(a), parse_hhmm(b)) for a, b in calendar.weekly_hours.get(str(day), []))
        for day in range(7)
    )
    return CalendarSpec(
        tz=ZoneInfo(calendar.time_zone),
        weekly=weekly,
        holiday=holiday_lookup(calendar.holiday_country, calendar.holiday_subdivision, own),
        name=calendar.name,
    )


class CalendarSpecs(dict[int, CalendarSpec]):
    """Calendars read once each within one piece of work (a sweep batch, a transition, a
    page, an import run): both clocks of an incident, or many runs, often share one."""

    def of(self, calendar: BusinessCalendar) -> CalendarSpec:
        spec = self.get(calendar.pk)
        if spec is None:
            spec = self[calendar.pk] = calendar_spec(calendar)
        return spec
