"""The desk shows the SLA clocks: the panel on the incident page, the resolution clock on each
queue row, and "Breaching soon" ordered by due time. Requesters see none of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from django.urls import reverse

from escalation.models import ClockState, SlaClock
from incidents import services
from incidents.models import Incident
from tests.desk.desk_support import detail_url, due_of, queue_url, report, routed, row_numbers
from tests.desk.test_desk_queries import INCIDENT_QUERIES, QUEUE_QUERIES

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # inside the default working hours


def _clock_class(html: str, metric: str) -> str:
    match = re.search(rf'<article class="sla-clock sla-(\w+)" data-testid="sla-{metric}">', html)
    assert match, f"no {metric} clock in the panel"
    return match.group(1)


def _row_badge(html: str, incident: Incident) -> tuple[str, str]:
    row = re.search(rf'<tr data-number="{incident.number}".*?</tr>', html, re.DOTALL)
    assert row, f"no row for {incident.reference}"
    badge = re.search(r'data-colour="(\w+)">([^<]+)</span>', row.group(0))
    assert badge, f"no SLA badge on {incident.reference}"
    return badge.group(1), badge.group(2)


def _soonest_due(incident: Incident) -> datetime:
    clocks = SlaClock.objects.filter(
        incident=incident, state__in=(ClockState.RUNNING, ClockState.BREACHED)
    )
    return min(due_of(c) for c in clocks)


def test_the_incident_page_shows_a_breached_clock_in_the_breached_colour(people, login):
    with time_machine.travel(MONDAY, tick=False):
        late = routed(people, "Mail down", impact="high", urgency="high")  # resolution: 8 h
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        fresh = routed(people, "Printer low on toner")
        client = login(people.alice)
        late_html = client.get(detail_url(late)).content.decode()
        fresh_html = client.get(detail_url(fresh)).content.decode()
    assert _clock_class(late_html, "resolution") == "breached"
    assert _clock_class(late_html, "response") == "breached"
    assert "Breached" in late_html and "Explain this timer" in late_html
    assert _clock_class(fresh_html, "resolution") == "ok"
    assert re.search(r'data-colour="ok">\d+ \w+( \d+ \w+)? left<', fresh_html)


def test_queue_rows_show_the_resolution_clock_in_words_and_colour(people, login):
    with time_machine.travel(MONDAY, tick=False):
        late = routed(people, "Mail down", impact="high", urgency="high")
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        fresh = routed(people, "Printer low on toner")
        html = login(people.alice).get(queue_url(people, queue="open")).content.decode()
    assert _row_badge(html, late) == ("breached", "Breached just now")
    colour, words = _row_badge(html, fresh)
    assert colour == "ok" and re.fullmatch(r"due in \d+ \w+( \d+ \w+)?", words)


def test_breaching_soon_lists_the_soonest_due_first(people, login):
    alice = people.actor(people.alice)
    with time_machine.travel(MONDAY, tick=False):
        old_low = report(people, "Old but low", impact="low", urgency="low")
        paused = services.incident_hold(
            incident=services.incident_accept(incident=routed(people, "Held"), actor=alice),
            actor=alice,
            hold_reason="awaiting_caller",  # this hold kind pauses the clocks
        )
    with time_machine.travel(MONDAY + timedelta(minutes=30), tick=False):
        young_high = report(people, "Young but urgent", impact="high", urgency="high")
        middle = report(people, "Middle")
    # Past the first warning (50%) of every response clock: young_high's breached, middle's at
    # 85%, old_low's at 55% of its working day.
    with time_machine.travel(MONDAY + timedelta(hours=4, minutes=25), tick=False):
        html = login(people.alice).get(queue_url(people, queue="breaching")).content.decode()
    expected = sorted([old_low, young_high, middle], key=_soonest_due)
    assert expected[0] == young_high and expected[-1] == old_low  # due time, not age
    assert row_numbers(html) == [i.number for i in expected]
    assert paused.number not in row_numbers(html)
    assert "SLA clocks are not available yet" not in html


def test_breached_incidents_lead_breaching_soon(people, login):
    with time_machine.travel(MONDAY, tick=False):
        late = report(people, "Mail down", impact="high", urgency="high")
    with time_machine.travel(MONDAY + timedelta(days=3, minutes=-20), tick=False):
        warned = report(people, "Warned", impact="high", urgency="high")  # 30 min to respond
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        fresh = report(people, "Fresh", impact="high", urgency="high")
        html = login(people.alice).get(queue_url(people, queue="breaching")).content.decode()
    assert row_numbers(html) == [late.number, warned.number]  # fresh: at 0% of its clocks
    assert fresh.number not in row_numbers(html)


def test_breaching_soon_runs_the_same_queries_for_3_or_30_rows(
    people, login, django_assert_max_num_queries
):
    with time_machine.travel(MONDAY, tick=False):
        for n in range(3):
            report(people, f"First {n}")
    client = login(people.alice)
    later = time_machine.travel(MONDAY + timedelta(hours=3), tick=False)  # 75% of 4 h to respond
    with later, django_assert_max_num_queries(QUEUE_QUERIES):
        client.get(queue_url(people, queue="breaching"))
    with time_machine.travel(MONDAY, tick=False):
        for n in range(27):
            report(people, f"More {n}")
    with later, django_assert_max_num_queries(QUEUE_QUERIES):
        html = client.get(queue_url(people, queue="breaching")).content.decode()
    # Both clocks on every row: the response and the resolution clock.
    assert len(row_numbers(html)) == 30 and html.count('class="sla-badge"') == 60


def test_the_panel_keeps_the_incident_page_pinned(people, login, django_assert_max_num_queries):
    with time_machine.travel(MONDAY, tick=False):
        incident = routed(people, "Mail down", impact="high", urgency="high")
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        client = login(people.alice)
        client.get(detail_url(incident))  # the first request also caches the tenant
        with django_assert_max_num_queries(INCIDENT_QUERIES):
            html = client.get(detail_url(incident)).content.decode()
    assert 'id="sla-panel"' in html


def test_a_requester_sees_nothing_of_the_sla(people, login):
    with time_machine.travel(MONDAY, tick=False):
        incident = report(people, "Mail down", impact="high", urgency="high")
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        desk = login(people.alice).get(detail_url(incident)).content.decode()
        rita = login(people.rita)
        portal = rita.get(
            reverse("portal-incident-detail", args=[people.acme.slug, incident.number])
        )
        desk_as_rita = rita.get(detail_url(incident))
    assert 'id="sla-panel"' in desk and "Breached" in desk  # the same incident, seen by staff
    html = portal.content.decode()
    assert portal.status_code == 200 and incident.title in html
    for secret in ('id="sla-panel"', "sla-badge", "Breached", "Explain this timer", "SLA"):
        assert secret not in html
    assert desk_as_rita.status_code in (403, 404)
