"""The shapes the page, the charts' script and the CSV export share: tiles, charts, tables.

Every tile and chart carries a table (the figures behind it: the page's table view and the CSV
rows) and links into the desk's queue with the same filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.urls import reverse

from dashboards.selectors.scope import Scope


@dataclass(frozen=True)
class Column:
    title: str
    unit: str = ""  # the unit of the numbers in the CSV ("hours", "%")


@dataclass(frozen=True)
class Cell:
    text: str
    number: float | int | None = None  # what the CSV holds, when it is a number
    href: str = ""

    @property
    def csv_value(self) -> str | float | int:
        return self.text if self.number is None else self.number


@dataclass
class Table:
    caption: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass
class Tile:
    key: str
    title: str
    value: str
    detail: str
    href: str
    # (measure, cell, unit) rows for the tiles' table and the CSV.
    figures: list[tuple[str, Cell, str]] = field(default_factory=list)


@dataclass
class Dataset:
    label: str
    values: list  # numbers, None where there is no figure
    links: list[str]


@dataclass
class Chart:
    key: str
    title: str
    kind: str  # "bar" or "line"
    labels: list[str]
    datasets: list[Dataset]
    table: Table
    href: str
    unit: str = ""
    stacked: bool = False
    horizontal: bool = False
    percent: bool = False

    @property
    def script_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def summary(self) -> str:
        """What the chart shows, for a screen reader (the table view has the figures)."""
        names = ", ".join(d.label for d in self.datasets)
        return f"{self.title}: {names} for {len(self.labels)} items. Open the table for figures."

    def config(self) -> dict:
        """What static/js/dashboards.js draws."""
        return {
            "kind": self.kind,
            "labels": self.labels,
            "datasets": [
                {"label": d.label, "data": d.values, "links": d.links} for d in self.datasets
            ],
            "unit": self.unit,
            "stacked": self.stacked,
            "horizontal": self.horizontal,
            "percent": self.percent,
        }


class DeskLinks:
    """URLs of the desk's queue with the dashboard's filters (the desk reads the same names:
    queue, state, priority, group, assignee, category, reported_from, reported_to)."""

    def __init__(self, tenant_slug: str, scope: Scope) -> None:
        self.base = reverse("desk-queue", kwargs={"tenant_slug": tenant_slug})
        self.scope = scope

    def queue(self, queue: str, **extra: object) -> str:
        params = {"queue": queue, **self.scope.filters}
        for key, value in extra.items():
            if value not in (None, ""):
                params[key] = value.isoformat() if isinstance(value, date) else str(value)
        return f"{self.base}?{urlencode(params)}"

    def reported(self, queue: str, first: date, last: date, **extra: object) -> str:
        return self.queue(queue, reported_from=first, reported_to=last, **extra)

    def in_period(self, queue: str, **extra: object) -> str:
        return self.reported(queue, self.scope.date_from, self.scope.date_to, **extra)


# --- formatting -------------------------------------------------------------------------------
def duration_text(seconds: float | None) -> str:
    """'45 s', '20 min', '3 h 30 min', '2 d 4 h'; an em dash when there is nothing."""
    if seconds is None:
        return "—"
    if seconds < 59.5:
        return f"{_half_up(seconds)} s"
    minutes = _half_up(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        whole, rest = divmod(minutes, 60)
        return f"{whole} h {rest} min" if rest else f"{whole} h"
    days, rest = divmod(_half_up(seconds / 3600), 24)
    return f"{days} d {rest} h" if rest else f"{days} d"


def _half_up(value: float) -> int:
    return int(math.floor(value + 0.5))


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def age_dates(today: date, low: timedelta, high: timedelta | None) -> tuple[date | None, date]:
    """The report dates covering an age bucket (a link to the desk filters by whole days)."""
    first = None if high is None else today - timedelta(days=high.days)
    return first, today - timedelta(days=low.days)
