"""The dashboard page and its CSV export: who may see them, what they show, where they link,
bad input, and a query count that does not grow with the data."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards.models import FiguresCache, RollupState
from dashboards.services import rollups_refresh
from incidents import services
from incidents.models import PriorityLevel
from tests.dashboards import scenario
from tests.dashboards.scenario import VIEWED_AT, at
from tests.factories import CategoryFactory, GroupFactory, add_to_group

pytestmark = pytest.mark.django_db

URL = "/t/acme/dashboards/"
EXPORT = "/t/acme/dashboards/export.csv"
PERIOD = "period=custom&date_from=2026-11-30&date_to=2026-12-06"
CHARTS = [
    "created_resolved",
    "backlog",
    "ageing",
    "sla_priority",
    "sla_group",
    "resolve_priority",
    "categories",
    "workload",
    "satisfaction",
]
TILES = [
    "open",
    "created",
    "resolved",
    "ack",
    "resolve",
    "sla_response",
    "sla_resolution",
    "reopen",
    "satisfaction",
]


@pytest.fixture
def viewed(people):
    with scenario.viewed(people) as history:
        yield history


def _query(href: str) -> dict[str, str]:
    parts = urlsplit(href)
    assert parts.path == "/t/acme/desk/"
    return {key: values[0] for key, values in parse_qs(parts.query).items()}


def _tile(html: str, key: str) -> str:
    block = html[html.index(f'data-tile="{key}"') :]
    match = re.search(r'class="tile-value">([^<]*)<', block)
    assert match is not None, f"tile {key} has no value"
    return match.group(1)


def _links(html: str, marker: str) -> list[str]:
    block = html[html.index(marker) :]
    block = block[: block.index("</article>")]
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', block)]


@pytest.mark.parametrize("who", ["max", "ada"])
def test_managers_and_admins_see_the_dashboard(people, login, who):
    response = login(getattr(people, who)).get(URL)
    assert response.status_code == 200
    assert b"<h1>Dashboards</h1>" in response.content


@pytest.mark.parametrize("who", ["alice", "rita", "charlie"])
@pytest.mark.parametrize("url", [URL, EXPORT])
def test_everyone_else_gets_404(people, login, who, url):
    assert login(getattr(people, who)).get(url).status_code == 404


def test_a_visitor_is_sent_to_log_in(client, people):
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_every_tile_and_chart_is_shown_with_its_table_view(people, login, viewed):
    html = login(people.max).get(f"{URL}?{PERIOD}").content.decode()
    assert re.findall(r'data-tile="(\w+)"', html) == TILES
    assert re.findall(r'<canvas data-chart="(\w+)"', html) == CHARTS
    for key in CHARTS:
        assert f'<script id="chart-data-{key}" type="application/json">' in html
    assert re.findall(r'<details class="table-view" data-table="(\w+)"', html) == ["tiles", *CHARTS]
    assert html.count("<table") == 1 + len(CHARTS)
    assert "static/vendor/chartjs/chart.umd.min.js" in html  # vendored, no CDN
    assert "cdn" not in html.lower()
    tile = html[html.index('data-tile="resolve"') :]
    assert "3 h 30 min" in tile[: tile.index("</article>")]
    assert "p90 1 d 1 h" in tile[: tile.index("</article>")]  # 24.5 hours


def test_tiles_and_charts_open_the_matching_queue_with_the_filters(people, login, viewed):
    group = people.group.pk
    html = login(people.max).get(f"{URL}?{PERIOD}&group={group}").content.decode()
    assert _query(_links(html, 'data-tile="open"')[0]) == {"queue": "open", "group": str(group)}
    created = _query(_links(html, 'data-tile="created"')[0])
    assert created == {
        "queue": "open",
        "group": str(group),
        "reported_from": "2026-11-30",
        "reported_to": "2026-12-06",
    }
    assert _query(_links(html, 'data-tile="sla_response"')[0])["queue"] == "breaching"
    medium = PriorityLevel.objects.get(tenant=people.acme, slug="medium").pk
    backlog = [_query(h) for h in _links(html, 'data-chart-card="backlog"')]
    assert {
        "queue": "open",
        "group": str(group),
        "priority": str(medium),
        "state": "diagnosing",
    } in backlog
    agents = [_query(h) for h in _links(html, 'data-chart-card="workload"')]
    assert {"queue": "open", "group": str(group), "assignee": str(people.alice.pk)} in agents


def test_a_backlog_link_opens_the_desk_queue_with_those_incidents(people, login, viewed):
    client = login(people.max)
    html = client.get(f"{URL}?{PERIOD}").content.decode()
    medium = PriorityLevel.objects.get(tenant=people.acme, slug="medium").pk
    [href] = [
        h
        for h in _links(html, 'data-chart-card="backlog"')
        if _query(h) == {"queue": "open", "priority": str(medium), "state": "diagnosing"}
    ]
    queue = client.get(href).content.decode()
    # The chart counted four: O2, O2b, O5 and O6; the desk lists exactly those.
    listed = set(re.findall(r"INC-\d{6}", queue))
    expected = {viewed.incidents[k].reference for k in ("O2", "O2b", "O5", "O6")}
    assert expected <= listed
    assert not listed & {viewed.incidents[k].reference for k in ("O1", "O3", "O4", "O8", "I5")}


def test_the_csv_holds_every_tile_and_chart_table(people, login, viewed):
    response = login(people.max).get(f"{EXPORT}?{PERIOD}")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="dashboard-acme-2026-11-30-2026-12-06.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1] == ["Period", "2026-11-30", "2026-12-06"]
    captions = [rows[i + 1][0] for i, row in enumerate(rows[:-1]) if row == []]
    assert captions == [
        "Tiles",
        "Created and resolved per day",
        "Open incidents by priority and state",
        "Age of open incidents (since report)",
        "SLA compliance by priority",
        "SLA compliance by group",
        "Time to resolve by priority",
        "Incidents by category (top 10, created in the period)",
        "Workload per active agent",
        "Satisfaction ratings of incidents closed in the period",
    ]
    assert ["Time to resolve", "p90, business time", "8.5", "hours"] in rows
    assert ["SLA response", "Met share", "75.0", "%"] in rows
    assert ["Reopen rate", "Reopen rate", "14.3", "%"] in rows
    assert ["2026-11-30", "7", "4"] in rows
    assert ["Alice Agent", "2", "4"] in rows
    assert ["3–7 days", "3"] in rows


def test_names_that_look_like_formulas_are_written_as_text(people, login, viewed):
    category = CategoryFactory(tenant=people.acme, name="=SUM(A1)", slug="sum")
    with time_machine.travel(at(1, 9), tick=False):
        services.incident_report(actor=people.actor(people.rita), title="x", category=category)
    with time_machine.travel(VIEWED_AT, tick=False):
        rollups_refresh(tenant=people.acme)
        content = login(people.max).get(f"{EXPORT}?{PERIOD}").content.decode()
    assert "'=SUM(A1),1" in content


def test_bad_dates_keep_what_was_typed_and_show_the_default_period(people, login, viewed):
    response = login(people.max).get(f"{URL}?period=custom&date_from=2026-12-10&date_to=2026-12-01")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The end of the period comes before its start." in html
    assert 'value="2026-12-10"' in html and 'value="2026-12-01"' in html
    assert 'data-period="2026-11-12..2026-12-11"' in html  # the last 30 days instead
    response = login(people.max).get(f"{URL}?period=custom&date_from=2026-12-10")
    assert "Give both dates of the period" in response.content.decode()
    response = login(people.max).get(f"{URL}?priority=999999&group=abc")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_a_filter_change_through_htmx_gets_only_the_dashboard(people, login, viewed):
    response = login(people.max).get(f"{URL}?{PERIOD}&period=7", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="dashboard"')
    assert "<form" not in html and "<html" not in html
    assert 'data-period="2026-12-05..2026-12-11"' in html


def _more_data(people) -> None:
    """More incidents, groups, categories and agents: none of it may cost a query more."""
    with time_machine.travel(at(1, 9), tick=False) as traveller:
        for n in range(3):
            group = GroupFactory.create(tenant=people.acme)
            add_to_group(group, people.alice, people.bob)
            category = CategoryFactory.create(tenant=people.acme, group=group)
            for hour in (10, 11):
                traveller.move_to(at(1 + n, hour))
                incident = services.incident_report(
                    actor=people.actor(people.rita),
                    title="More",
                    category=category,
                    impact="low",
                    urgency="high",
                )
                services.incident_accept(incident=incident, actor=people.actor(people.bob))


def test_the_page_runs_the_same_queries_whatever_the_data(
    people, login, viewed, django_assert_max_num_queries
):
    client = login(people.max)
    client.get(f"{URL}?{PERIOD}")  # sessions and the like settle on a first request

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"{URL}?{PERIOD}").status_code == 200
        return len(queries)

    def cold_and_warm() -> tuple[int, int]:
        FiguresCache.objects.all().delete()  # the first look computes, the second reads
        return count(), count()

    before = cold_and_warm()
    _more_data(people)
    rollups_refresh(tenant=people.acme)
    assert cold_and_warm() == before
    assert before[1] < before[0]
    # 3 for the session, user and membership, 1 for the header's notification bell, 12 ours
    # when the figures are computed (counts, bucket counts, the look inside the buckets, and
    # the cache's lookup and write) and 7 when they are cached.
    with django_assert_max_num_queries(16):
        client.get(f"{URL}?{PERIOD}&group={people.group.pk}&priority=")


def test_a_second_look_reads_the_figures_kept_for_the_rollups_version(people, login, viewed):
    client = login(people.max)

    def body() -> str:
        html = client.get(f"{URL}?{PERIOD}").content.decode()
        return html[html.index('<section id="dashboard"') :]

    first = body()
    assert FiguresCache.objects.filter(tenant=people.acme).count() == 4  # 7, 30, 90 days, this
    assert body() == first
    with time_machine.travel(at(11, 13), tick=False):
        services.incident_report(
            actor=people.actor(people.rita), title="x", category=people.network
        )
        rollups_refresh(tenant=people.acme)
        html = client.get(f"{URL}?period=7").content.decode()
    # A refresh that changed figures starts a new version: the old ones are gone.
    assert not FiguresCache.objects.filter(
        tenant=people.acme, key__startswith="2026-11-30"
    ).exists()
    # Created in the last 7 days (5-11 December): O3, O5, O6, O2, O2b, O1 and the new one.
    assert _tile(html, "created") == "7"


def test_figures_never_computed_ask_a_worker_for_a_refresh(
    people, login, django_capture_on_commit_callbacks
):
    services.incident_report(
        actor=people.actor(people.rita), title="Printer", category=people.network
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        html = login(people.max).get(URL).content.decode()
    assert "being computed for the first time" in html
    assert len(callbacks) == 1  # the worker (eager in tests) refreshed the tenant
    assert RollupState.objects.get(tenant=people.acme).refreshed_at is not None
    html = login(people.max).get(URL).content.decode()
    assert "Figures as of" in html
