"""The dashboard's "Problems and known errors" card (dashboards/views/problems.py): loaded by
the page with its period and filters, for managers only, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident
from tests.factories import CategoryFactory
from tests.problems.support import incident, known_error, problem

pytestmark = pytest.mark.django_db

URL = "/t/acme/dashboards/problems/"


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}">(\d+)<', html)
    assert match, f"{name} not in the card"
    return match.group(1)


def _aged(i: Incident, days: int) -> None:
    Incident.objects.filter(pk=i.pk).update(reported_at=timezone.now() - timedelta(days=days))


def _queries(client, url: str) -> int:
    """The queries of one page load."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_card_shows_problems_known_errors_and_the_recurring_categories(people, login):
    known_error(people, problem(people, incident(people), incident(people)))
    problem(people, incident(people, "Wi-Fi slow"), title="Wi-Fi slow")
    html = login(people.max).get(URL).content.decode()
    assert _figure(html, "open-problems") == "2"
    assert _figure(html, "known-errors") == "1"
    assert _figure(html, "incidents-on-known-errors") == "2"
    table = html.split('data-testid="recurring-categories"', 1)[1]
    assert re.search(r"<td>Network</td><td><a href=\"[^\"]+\">3</a></td><td>0</td>", table)


def test_the_dashboard_page_loads_the_card_with_its_period_and_filters(people, login):
    page = login(people.max).get("/t/acme/dashboards/?period=7&category=none").content.decode()
    assert f'hx-get="{URL}?period=7&amp;category=none"' in page


def test_the_card_keeps_to_the_period_and_the_filters(people, login):
    hardware = CategoryFactory.create(tenant=people.acme, name="Hardware", slug="hardware")
    _aged(incident(people, "Fan loud", category=hardware), days=10)
    known_error(people, problem(people, incident(people)))
    client = login(people.max)
    last_week = client.get(f"{URL}?period=7").content.decode()
    assert "<td>Hardware</td>" not in last_week and "<td>Network</td>" in last_week
    assert "<td>Hardware</td>" in client.get(f"{URL}?period=30").content.decode()
    only_hardware = client.get(f"{URL}?period=30&category={hardware.pk}").content.decode()
    assert _figure(only_hardware, "open-problems") == "0"
    assert _figure(only_hardware, "incidents-on-known-errors") == "0"
    assert "<td>Network</td>" not in only_hardware


def test_bad_filters_fall_back_to_the_last_30_days(people, login):
    incident(people)
    html = login(people.max).get(f"{URL}?period=custom&date_from=nonsense").content.decode()
    assert "<td>Network</td>" in unescape(html)


def test_the_card_is_for_managers_only(people, login):
    for user in (people.alice, people.rita, people.charlie):
        assert login(user).get(URL).status_code == 404


def test_the_card_reads_in_fixed_queries(people, login):
    client = login(people.max)
    known_error(people, problem(people, incident(people)))
    few = _queries(client, URL)
    assert 0 < few <= 12
    for n in range(5):
        hardware = CategoryFactory.create(tenant=people.acme, name=f"Hardware {n}", slug=f"hw{n}")
        known_error(
            people,
            problem(people, incident(people, f"Fan {n}", category=hardware), title=f"Fans {n}"),
        )
    assert _queries(client, URL) == few
