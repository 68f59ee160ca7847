"""Keyset pagination of the queues: every row once, in order, even while rows change."""

from __future__ import annotations

import html as htmllib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from desk import selectors
from escalation.models import SlaClock
from incidents import services
from incidents.models import Incident
from tests.desk.desk_support import age, due_of, number_of, queue_url, report, row_numbers

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # inside the default working hours


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)


def _link(html: str, rel: str) -> str | None:
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return htmllib.unescape(match.group(1)) if match else None


def _backlog(people, count: int) -> list[int]:
    """`count` incidents of mixed priority and age; returns their numbers in queue order."""
    levels = ["high", "medium", "low"]
    made = []
    for n in range(count):
        level = levels[n % 3]
        incident = age(report(people, f"Incident {n}", impact=level, urgency=level), 100 - n)
        made.append(incident)
    made.sort(key=lambda i: (i.priority_rank, i.reported_at, i.pk))
    return [number_of(i) for i in made]


def _walk(client, url: str | None) -> list[list[int]]:
    pages = []
    while url:
        html = client.get(url).content.decode()
        pages.append(row_numbers(html))
        url = _link(html, "next")
    return pages


def test_pages_cover_every_row_once_in_queue_order(people, login):
    expected = _backlog(people, 8)
    pages = _walk(login(people.alice), queue_url(people, queue="open"))
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [n for page in pages for n in page] == expected


def test_no_row_is_skipped_or_repeated_while_rows_change(people, login):
    expected = _backlog(people, 9)
    client = login(people.alice)
    first = client.get(queue_url(people, queue="open")).content.decode()
    page_one = row_numbers(first)
    assert page_one == expected[:3]
    # Between the pages two rows of page one leave the queue and an urgent, older one arrives:
    # both sort before the cursor. With OFFSET the next page would silently skip a row.
    alice = people.actor(people.alice)
    for number in page_one[:2]:
        gone = Incident.objects.get(tenant=people.acme, number=number)
        services.incident_cancel(incident=gone, actor=alice, reason="Duplicate")
    age(report(people, "Urgent, found late", impact="high", urgency="high"), 500)
    rest = _walk(client, _link(first, "next"))
    assert [n for page in rest for n in page] == expected[3:]


def test_previous_page_shows_the_rows_before(people, login):
    expected = _backlog(people, 7)
    client = login(people.alice)
    first = client.get(queue_url(people, queue="open")).content.decode()
    second = client.get(_link(first, "next")).content.decode()
    assert row_numbers(second) == expected[3:6]
    back = client.get(_link(second, "prev")).content.decode()
    assert row_numbers(back) == expected[:3]
    assert _link(back, "prev") is None  # the first page has no page before it


def test_pages_of_breaching_soon_follow_the_due_time(people, login):
    levels = ["low", "high", "medium", "high", "low"]
    made = []
    for n, level in enumerate(levels):
        with time_machine.travel(MONDAY + timedelta(minutes=10 * n), tick=False):
            made.append(report(people, f"N{n}", impact=level, urgency=level))
    soonest_first = [i.number for i in sorted(made, key=lambda i: (_soonest_due(i), i.pk))]
    # Every response clock past its first warning (50%): the last low one at 54% of its 8 h.
    with time_machine.travel(MONDAY + timedelta(hours=5), tick=False):
        pages = _walk(login(people.alice), queue_url(people, queue="breaching"))
    assert [len(page) for page in pages] == [3, 2]
    assert [n for page in pages for n in page] == soonest_first


def _soonest_due(incident: Incident):
    return min(due_of(c) for c in SlaClock.objects.filter(incident=incident, stopped_at=None))


def test_a_malformed_cursor_shows_the_first_page(people, login):
    expected = _backlog(people, 4)
    html = login(people.alice).get(queue_url(people, queue="open", after="1.x.3")).content.decode()
    assert row_numbers(html) == expected[:3]


def test_filters_are_kept_across_pages(people, login):
    for n in range(5):
        report(people, f"VPN {n}")
    report(people, "Printer")
    pages = _walk(login(people.alice), queue_url(people, queue="open", q="vpn"))
    assert sum(len(p) for p in pages) == 5
