"""A tenant's calendar days as instants: a day starts at its local midnight in the tenant's time
zone, so "from 1 to 3 December" is [midnight of the 1st, midnight of the 4th). The dashboard, the
audit log and the knowledge card all count days this way."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def days_span(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The days first..last (both included) as a half-open range of instants."""
    return local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
