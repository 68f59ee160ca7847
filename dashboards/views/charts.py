"""Tiles and charts of the dashboard, built from the selectors' figures."""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.selectors.dashboard import AGE_BUCKETS, DashboardData
from dashboards.selectors.sql import Spread
from dashboards.views.presentation import (
    Cell,
    Chart,
    Column,
    Dataset,
    DeskLinks,
    Table,
    Tile,
    age_dates,
    duration_text,
    hours,
    percent,
    percent_text,
)
from incidents.models import IncidentState
from incidents.models.incident import OPEN_STATES

STATE_LABELS = dict(IncidentState.choices)


@dataclass
class Dashboard:
    data: DashboardData
    tiles: list[Tile]
    charts: list[Chart]

    @property
    def tiles_table(self) -> Table:
        table = Table("Tiles", [Column("Tile"), Column("Measure"), Column("Value"), Column("Unit")])
        for tile in self.tiles:
            for measure, cell, unit in tile.figures:
                table.rows.append([Cell(tile.title), Cell(measure), cell, Cell(unit)])
        return table


def build(data: DashboardData, links: DeskLinks) -> Dashboard:
    return Dashboard(data, tiles(data, links), charts(data, links))


# --- tiles ------------------------------------------------------------------------------------
def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _count_tile(key: str, title: str, n: int, detail: str, href: str) -> Tile:
    return Tile(key, title, f"{n:,}", detail, href, [("Count", Cell(f"{n:,}", n), "incidents")])


def _spread_figures(spreads: dict[str, Spread]) -> list[tuple[str, Cell, str]]:
    out = [("Incidents measured", Cell(str(spreads["wall"].n), spreads["wall"].n), "incidents")]
    for clock in ("wall", "business"):
        for name in ("median", "p90"):
            seconds = getattr(spreads[clock], name)
            label = f"{'Median' if name == 'median' else 'p90'}, {clock} time"
            out.append((label, Cell(duration_text(seconds), hours(seconds)), "hours"))
    return out


def _spread_tile(key: str, title: str, spreads: dict[str, Spread], href: str) -> Tile:
    wall, business = spreads["wall"], spreads["business"]
    detail = (
        f"Median in wall time; p90 {duration_text(wall.p90)}. Business time: median "
        f"{duration_text(business.median)}, p90 {duration_text(business.p90)}. "
        f"{wall.n:,} incidents."
    )
    return Tile(key, title, duration_text(wall.median), detail, href, _spread_figures(spreads))


def _sla_tile(key: str, title: str, met: int, breached: int, href: str) -> Tile:
    share = percent(met, met + breached)
    figures = [
        ("Met", Cell(str(met), met), "clocks"),
        ("Breached", Cell(str(breached), breached), "clocks"),
        ("Met share", Cell(percent_text(share), share), "%"),
    ]
    detail = f"{met:,} of {met + breached:,} clocks that ended met their target"
    return Tile(key, title, percent_text(share), detail, href, figures)


def _reopen_tile(t: dict[str, int], href: str) -> Tile:
    rate = percent(t["reopens"], t["resolutions"])
    detail = f"{_plural(t['reopens'], 'reopen')} per {_plural(t['resolutions'], 'resolution')}"
    figures = [
        ("Reopens", Cell(str(t["reopens"]), t["reopens"]), "events"),
        ("Resolutions", Cell(str(t["resolutions"]), t["resolutions"]), "events"),
        ("Reopen rate", Cell(percent_text(rate), rate), "%"),
    ]
    return Tile("reopen", "Reopen rate", percent_text(rate), detail, href, figures)


def _satisfaction_tile(t: dict[str, int], href: str) -> Tile:
    mean = round(t["rating_sum"] / t["rated"], 2) if t["rated"] else None
    answered = percent(t["rated"], t["closed"])
    shown = "—" if mean is None else f"{mean:g}"
    detail = f"{t['rated']:,} of {t['closed']:,} closed incidents rated ({percent_text(answered)})"
    figures = [
        ("Average rating", Cell(shown, mean), "1-5"),
        ("Rated", Cell(str(t["rated"]), t["rated"]), "incidents"),
        ("Closed", Cell(str(t["closed"]), t["closed"]), "incidents"),
        ("Response rate", Cell(percent_text(answered), answered), "%"),
    ]
    value = shown if mean is None else f"{shown} / 5"
    return Tile("satisfaction", "Satisfaction", value, detail, href, figures)


def tiles(data: DashboardData, links: DeskLinks) -> list[Tile]:
    t = data.totals
    open_states = "Reported, escalated, in progress or on hold"
    return [
        _count_tile("open", "Open now", data.open_now, open_states, links.queue("open")),
        _count_tile(
            "created", "Created", t["created"], "Reported in the period", links.in_period("open")
        ),
        _count_tile(
            "resolved", "Resolved", t["resolved"], "Resolved in the period", links.queue("resolved")
        ),
        _spread_tile(
            "ack",
            "Time to acknowledge",
            data.ack,
            links.queue("open", state=IncidentState.ESCALATED),
        ),
        _spread_tile("resolve", "Time to resolve", data.resolve, links.queue("resolved")),
        _sla_tile(
            "sla_response",
            "SLA response",
            t["response_met"],
            t["response_breached"],
            links.queue("breaching"),
        ),
        _sla_tile(
            "sla_resolution",
            "SLA resolution",
            t["resolution_met"],
            t["resolution_breached"],
            links.queue("breaching"),
        ),
        _reopen_tile(t, links.queue("open", state=IncidentState.DIAGNOSING)),
        _satisfaction_tile(t, links.queue("resolved")),
    ]


# --- charts -----------------------------------------------------------------------------------
def _n(value: int | float | None) -> Cell:
    return Cell("—" if value is None else f"{value:,}", value)


def _linked(value: int, href: str) -> Cell:
    return Cell(f"{value:,}", value, href)


def created_resolved(data: DashboardData, links: DeskLinks) -> Chart:
    table = Table(
        "Created and resolved per day", [Column("Day"), Column("Created"), Column("Resolved")]
    )
    created, resolved, to_created, to_resolved, labels = [], [], [], [], []
    for day, counters in data.per_day:
        labels.append(day.strftime("%d %b"))
        created.append(counters["created"])
        resolved.append(counters["resolved"])
        to_created.append(links.reported("open", day, day))
        to_resolved.append(links.queue("resolved"))
        table.rows.append(
            [
                Cell(day.isoformat()),
                _linked(counters["created"], to_created[-1]),
                _n(counters["resolved"]),
            ]
        )
    return Chart(
        "created_resolved",
        "Created vs resolved per day",
        "line",
        labels,
        [Dataset("Created", created, to_created), Dataset("Resolved", resolved, to_resolved)],
        table,
        links.in_period("open"),
        unit="incidents",
    )


def backlog(data: DashboardData, links: DeskLinks) -> Chart:
    levels = [
        lv
        for lv in data.choices.levels
        if lv.is_active or any(data.backlog.get((lv.pk, s)) for s in OPEN_STATES)
    ]
    columns = [Column("Priority"), *(Column(STATE_LABELS[s]) for s in OPEN_STATES), Column("Total")]
    table = Table("Open incidents by priority and state", columns)
    datasets = [Dataset(STATE_LABELS[s], [], []) for s in OPEN_STATES]
    for level in levels:
        row = [Cell(level.label)]
        for dataset, state in zip(datasets, OPEN_STATES, strict=True):
            n = data.backlog.get((level.pk, state), 0)
            href = links.queue("open", priority=level.pk, state=state)
            dataset.values.append(n)
            dataset.links.append(href)
            row.append(_linked(n, href))
        total = sum(data.backlog.get((level.pk, s), 0) for s in OPEN_STATES)
        table.rows.append([*row, _linked(total, links.queue("open", priority=level.pk))])
    return Chart(
        "backlog",
        "Backlog by priority and state",
        "bar",
        [lv.label for lv in levels],
        datasets,
        table,
        links.queue("open"),
        unit="incidents",
        stacked=True,
    )


def ageing(data: DashboardData, links: DeskLinks) -> Chart:
    table = Table("Age of open incidents (since report)", [Column("Age"), Column("Open incidents")])
    today = data.now.astimezone(data.scope.tz).date()
    values, hrefs = [], []
    for key, label, low, high in AGE_BUCKETS:
        first, last = age_dates(today, low, high)
        href = links.queue("open", reported_from=first, reported_to=last)
        values.append(data.ageing[key])
        hrefs.append(href)
        table.rows.append([Cell(label), _linked(data.ageing[key], href)])
    return Chart(
        "ageing",
        "Ageing of open incidents",
        "bar",
        [b[1] for b in AGE_BUCKETS],
        [Dataset("Open incidents", values, hrefs)],
        table,
        links.queue("open"),
        unit="incidents",
    )


def _sla_chart(
    key: str, title: str, first: str, rows: list[tuple[str, dict, str]], href: str
) -> Chart:
    columns = [Column(first)]
    for metric in ("Response", "Resolution"):
        columns += [
            Column(f"{metric} met"),
            Column(f"{metric} breached"),
            Column(f"{metric} met share", "%"),
        ]
    table = Table(title, columns)
    response = Dataset("Response % met", [], [])
    resolution = Dataset("Resolution % met", [], [])
    for label, counts, link in rows:
        row = [Cell(label)]
        for metric, dataset in (("response", response), ("resolution", resolution)):
            met, breached = counts.get(f"{metric}_met", 0), counts.get(f"{metric}_breached", 0)
            share = percent(met, met + breached)
            dataset.values.append(share)
            dataset.links.append(link)
            row += [_n(met), _n(breached), Cell(percent_text(share), share, link)]
        table.rows.append(row)
    return Chart(
        key,
        title,
        "bar",
        [r[0] for r in rows],
        [response, resolution],
        table,
        href,
        unit="% met",
        percent=True,
    )


def sla_by_priority(data: DashboardData, links: DeskLinks) -> Chart:
    rows = [
        (lv.label, data.sla_by_priority.get(lv.pk, {}), links.queue("breaching", priority=lv.pk))
        for lv in data.choices.levels
        if lv.is_active or lv.pk in data.sla_by_priority
    ]
    return _sla_chart(
        "sla_priority", "SLA compliance by priority", "Priority", rows, links.queue("breaching")
    )


def sla_by_group(data: DashboardData, links: DeskLinks) -> Chart:
    rows = [
        (g.name, data.sla_by_group.get(g.pk, {}), links.queue("breaching", group=g.pk))
        for g in data.choices.groups
    ]
    if None in data.sla_by_group:
        rows.append(("No group", data.sla_by_group[None], links.queue("breaching", group="none")))
    return _sla_chart(
        "sla_group", "SLA compliance by group", "Group", rows, links.queue("breaching")
    )


def resolve_by_priority(data: DashboardData, links: DeskLinks) -> Chart:
    names: dict[int | None, str] = {lv.pk: lv.label for lv in data.choices.levels}
    table = Table(
        "Time to resolve by priority",
        [
            Column("Priority"),
            Column("Resolved"),
            Column("Median, wall time", "hours"),
            Column("p90, wall time", "hours"),
            Column("Median, business time", "hours"),
            Column("p90, business time", "hours"),
        ],
    )
    series = [("wall", "median"), ("wall", "p90"), ("business", "median"), ("business", "p90")]
    datasets = [
        Dataset(f"{'Median' if s == 'median' else 'p90'}, {c} (h)", [], []) for c, s in series
    ]
    for pk, spreads in data.resolve_by_priority.items():
        href = links.queue("resolved", priority=pk)
        row = [Cell(names.get(pk, "—")), Cell(str(spreads["wall"].n), spreads["wall"].n, href)]
        for dataset, (clock, stat) in zip(datasets, series, strict=True):
            seconds = getattr(spreads[clock], stat)
            dataset.values.append(hours(seconds))
            dataset.links.append(href)
            row.append(Cell(duration_text(seconds), hours(seconds)))
        table.rows.append(row)
    return Chart(
        "resolve_priority",
        "Time to resolve by priority",
        "bar",
        [names.get(pk, "—") for pk in data.resolve_by_priority],
        datasets,
        table,
        links.queue("resolved"),
        unit="hours",
    )


def top_categories(data: DashboardData, links: DeskLinks) -> Chart:
    names = {c.pk: c.name for c in data.choices.categories}
    table = Table(
        "Incidents by category (top 10, created in the period)",
        [Column("Category"), Column("Created")],
    )
    labels, values, hrefs = [], [], []
    for pk, n in data.top_categories:
        label = "No category" if pk is None else names.get(pk, "(retired category)")
        href = links.in_period("open", category="none" if pk is None else pk)
        labels.append(label)
        values.append(n)
        hrefs.append(href)
        table.rows.append([Cell(label), _linked(n, href)])
    return Chart(
        "categories",
        "Incidents by category (top 10)",
        "bar",
        labels,
        [Dataset("Created", values, hrefs)],
        table,
        links.in_period("open"),
        unit="incidents",
        horizontal=True,
    )


def workload(data: DashboardData, links: DeskLinks) -> Chart:
    table = Table(
        "Workload per active agent", [Column("Agent"), Column("Open"), Column("Resolved in period")]
    )
    opened = Dataset("Open", [], [])
    resolved = Dataset("Resolved in period", [], [])
    for load in data.workload:
        to_open = links.queue("open", assignee=load.user.pk)
        to_resolved = links.queue("resolved", assignee=load.user.pk)
        opened.values.append(load.open)
        opened.links.append(to_open)
        resolved.values.append(load.resolved)
        resolved.links.append(to_resolved)
        table.rows.append(
            [
                Cell(load.user.display_name),
                _linked(load.open, to_open),
                _linked(load.resolved, to_resolved),
            ]
        )
    return Chart(
        "workload",
        "Workload per active agent",
        "bar",
        [load.user.display_name for load in data.workload],
        [opened, resolved],
        table,
        links.queue("open"),
        unit="incidents",
        horizontal=True,
    )


def satisfaction(data: DashboardData, links: DeskLinks) -> Chart:
    table = Table(
        "Satisfaction ratings of incidents closed in the period",
        [Column("Rating"), Column("Incidents")],
    )
    href = links.queue("resolved")
    values = [data.totals[f"rating_{k}"] for k in range(1, 6)]
    labels = [f"{k} of 5" for k in range(1, 6)]
    for label, n in zip(labels, values, strict=True):
        table.rows.append([Cell(label), _n(n)])
    return Chart(
        "satisfaction",
        "Satisfaction distribution",
        "bar",
        labels,
        [Dataset("Ratings", values, [href] * 5)],
        table,
        href,
        unit="incidents",
    )


def charts(data: DashboardData, links: DeskLinks) -> list[Chart]:
    return [
        builder(data, links)
        for builder in (
            created_resolved,
            backlog,
            ageing,
            sla_by_priority,
            sla_by_group,
            resolve_by_priority,
            top_categories,
            workload,
            satisfaction,
        )
    ]
