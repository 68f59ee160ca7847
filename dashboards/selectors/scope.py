"""What a dashboard covers (Scope: the tenant's calendar days and the filters) and the days of a
time zone. The reads take a Scope, the filter form makes one (dashboards/views/forms.py), and
the writes count on the same local midnights, so it lives down here with the reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from tenancy.days import local_midnight

__all__ = ["Scope", "local_midnight"]


@dataclass(frozen=True)
class Scope:
    """What the dashboard covers: calendar days of the tenant (both ends included) and the
    group / category / priority filters ("" for any; "none" for incidents without one)."""

    date_from: date
    date_to: date
    tz: ZoneInfo
    group: str = ""
    category: str = ""
    priority: str = ""

    @property
    def start(self) -> datetime:
        return local_midnight(self.date_from, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.date_to + timedelta(days=1), self.tz)

    @property
    def days(self) -> list[date]:
        span = (self.date_to - self.date_from).days
        return [self.date_from + timedelta(days=i) for i in range(span + 1)]

    @property
    def key(self) -> str:
        return f"{self.date_from}..{self.date_to}|{self.group}|{self.category}|{self.priority}"

    @property
    def filters(self) -> dict[str, str]:
        """The filters as the desk's queue reads them (same names and values)."""
        found = {"group": self.group, "category": self.category, "priority": self.priority}
        return {key: value for key, value in found.items() if value}


def today_in(tz: ZoneInfo) -> date:
    return timezone.now().astimezone(tz).date()


def last_days(days: int, tz: ZoneInfo) -> tuple[date, date]:
    today = today_in(tz)
    return today - timedelta(days=days - 1), today
