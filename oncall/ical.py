"""A person's on-call shifts as an iCalendar feed, at a signed URL calendar apps subscribe to.

Calendar apps cannot log in, so the URL carries a token signed with the site's SECRET_KEY
(tenancy/links.py reads it: a token that does not verify is the same 404 as a missing page).
The token names the tenant and the person and does not expire, as a subscription must keep
working; it stops working when the person is no longer an active member of the desk's staff.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from incidents.selectors.config import staff_users
from oncall.models import Schedule
from oncall.selectors import schedule_shifts, schedules_in
from tenancy.links import NOT_A_LINK, link_read, link_tenant
from tenancy.models import Tenant, User

ICAL_SALT = "oncall.ical"
# The feed's window: what calendar apps show of the past and plan of the future.
PAST = timedelta(days=14)
AHEAD = timedelta(days=56)


def ical_url(tenant: Tenant, user: User) -> str:
    token = signing.dumps({"t": tenant.pk, "u": user.pk}, salt=ICAL_SALT)
    path = reverse("oncall-ical-feed", kwargs={"tenant_slug": tenant.slug, "token": token})
    return settings.SITE_URL + path


def ical_person(*, tenant_slug: str, token: str) -> tuple[Tenant, User]:
    """The tenant and person a genuine feed link names; Http404 for anything else."""
    link = link_read(token, salt=ICAL_SALT, max_age=None)
    user_id = link.data.get("u")
    if not isinstance(user_id, int):
        raise Http404(NOT_A_LINK)
    tenant = link_tenant(tenant_slug, link.data.get("t"))
    user = staff_users(tenant).filter(pk=user_id).first()
    if user is None:
        raise Http404(NOT_A_LINK)
    return tenant, user


def _event(schedule: Schedule, user: User, shift, stamp) -> Event:
    event = Event()
    event.add("uid", f"oncall-{schedule.pk}-{user.pk}-{shift.start:%Y%m%dT%H%M%SZ}@servicedesk")
    event.add("dtstamp", stamp)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    why = "override" if shift.override else shift.layer
    event.add("summary", f"On call: {schedule.name}")
    event.add("description", f"On call in {schedule.name} ({why}).")
    return event


def ical_feed(tenant: Tenant, user: User) -> bytes:
    """Every shift of `user` in the tenant's schedules from two weeks ago to eight ahead."""
    now = timezone.now()
    start, end = now - PAST, now + AHEAD
    calendar = Calendar()
    calendar.add("prodid", "-//Service desk//On call//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"On call at {tenant.name}: {user.display_name}")
    for schedule in schedules_in(tenant):
        for shift in schedule_shifts(schedule, start, end):
            if shift.user_id == user.pk:
                calendar.add_component(_event(schedule, user, shift, now))
    return calendar.to_ical()
