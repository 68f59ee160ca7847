"""The desk's queues: who sees what, in which order, with live counts and URL filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from desk import selectors
from incidents import services
from incidents.models import Incident, PriorityLevel
from incidents.selectors import apply_search
from tests.desk.desk_support import (
    age,
    bulk_incidents,
    queue_url,
    report,
    routed,
    row_numbers,
)
from tests.factories import GroupFactory, add_to_group

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # inside the default working hours


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-queue="(\w+)">([^<]*)<', html))


def test_all_open_lists_by_priority_then_age(people, login):
    low_old = age(report(people, "Old and low", impact="low", urgency="low"), 60)
    high_new = report(people, "New and high", impact="high", urgency="high")
    high_old = age(report(people, "Old and high", impact="high", urgency="medium"), 30)
    medium = report(people, "Medium")
    html = login(people.alice).get(queue_url(people, queue="open")).content.decode()
    assert row_numbers(html) == [high_old.number, high_new.number, medium.number, low_old.number]


def test_my_work_holds_only_my_open_incidents(people, login):
    alice = people.actor(people.alice)
    mine = services.incident_accept(incident=routed(people, "Mine"), actor=alice)
    routed(people, "Nobody's yet")
    bob_s = services.incident_accept(
        incident=routed(people, "Bob's"), actor=people.actor(people.bob)
    )
    done = services.incident_accept(incident=routed(people, "Done"), actor=alice)
    services.incident_resolve(
        incident=done, actor=alice, resolution_code="solved-permanently", resolution_notes="Fixed."
    )
    html = login(people.alice).get(queue_url(people, queue="mine")).content.decode()
    assert row_numbers(html) == [mine.number]
    assert bob_s.number not in row_numbers(html)


def test_unassigned_holds_new_incidents_and_my_groups_unassigned_ones(people, login):
    new = report(people, "Nobody routed this")
    in_my_group = routed(people, "Escalated to my group")
    other_group = GroupFactory(tenant=people.acme, name="Applications")
    add_to_group(other_group, people.max)
    elsewhere = services.incident_escalate(
        incident=report(people, "Escalated elsewhere"),
        actor=people.actor(people.max),
        group=other_group,
    )
    taken = services.incident_accept(
        incident=routed(people, "Taken"), actor=people.actor(people.bob)
    )
    html = login(people.alice).get(queue_url(people, queue="unassigned")).content.decode()
    shown = row_numbers(html)
    assert sorted(shown) == sorted([new.number, in_my_group.number])
    assert elsewhere.number not in shown and taken.number not in shown


def test_breaching_soon_says_why_and_leaves_out_paused_and_resolved(people, login):
    alice = people.actor(people.alice)
    with time_machine.travel(MONDAY, tick=False):
        running = report(people, "Running clocks")
        held = services.incident_hold(
            incident=services.incident_accept(incident=routed(people, "Held"), actor=alice),
            actor=alice,
            hold_reason="awaiting_caller",  # pauses the clocks
        )
        resolved = services.incident_resolve(
            incident=routed(people, "Resolved"),
            actor=alice,
            resolution_code="known-error",
            resolution_notes="Known error, workaround given.",
        )
    with time_machine.travel(MONDAY + timedelta(hours=3), tick=False):  # 75% of 4 h to respond
        html = login(people.alice).get(queue_url(people, queue="breaching")).content.decode()
    assert row_numbers(html) == [running.number]
    assert held.number not in row_numbers(html) and resolved.number not in row_numbers(html)
    assert "passed its first warning or breached, the soonest deadline first" in html


def test_on_hold_and_resolved_queues(people, login):
    alice = people.actor(people.alice)
    held = services.incident_hold(
        incident=services.incident_accept(incident=routed(people, "Held"), actor=alice),
        actor=alice,
        hold_reason="awaiting_caller",
    )
    resolved = services.incident_resolve(
        incident=routed(people, "Resolved"),
        actor=alice,
        resolution_code="known-error",
        resolution_notes="Known error, workaround given.",
    )
    client = login(people.alice)
    assert row_numbers(client.get(queue_url(people, queue="on_hold")).content.decode()) == [
        held.number
    ]
    resolved_html = client.get(queue_url(people, queue="resolved")).content.decode()
    assert row_numbers(resolved_html) == [resolved.number]


def test_every_queue_shows_its_live_count(people, login):
    alice = people.actor(people.alice)
    services.incident_accept(incident=routed(people, "Mine"), actor=alice)
    routed(people, "Unassigned one")
    report(people, "Unrouted one")
    html = login(people.alice).get(queue_url(people)).content.decode()
    assert _counts(html) == {
        "mine": "1",
        "unassigned": "2",
        "open": "3",
        "breaching": "0",  # all three just reported: none near its deadline
        "on_hold": "0",
        "resolved": "0",
        "history": "3",
    }


def test_counts_stop_at_the_cap(people, login, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for n in range(3):
        report(people, f"Incident {n}")
    html = login(people.alice).get(queue_url(people)).content.decode()
    assert _counts(html)["open"] == "2+"
    assert _counts(html)["on_hold"] == "0"


def test_the_default_queue_is_my_work(people, login):
    html = login(people.alice).get(queue_url(people)).content.decode()
    assert "<h1>My work</h1>" in html


def test_charlie_of_another_tenant_gets_404(people, login):
    report(people, "Acme only")
    assert login(people.charlie).get(queue_url(people, queue="open")).status_code == 404


def test_a_requester_gets_404_on_the_desk(people, login):
    assert login(people.rita).get(queue_url(people)).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(people, client):
    response = client.get(queue_url(people))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- filters --------------------------------------------------------------------------------
def _open(client, people, **filters) -> list[int]:
    return row_numbers(client.get(queue_url(people, queue="open", **filters)).content.decode())


def test_filters_by_state_priority_group_assignee_and_category(people, login):
    alice = people.actor(people.alice)
    taken = services.incident_accept(
        incident=routed(people, "Taken", impact="high", urgency="high"), actor=alice
    )
    waiting = routed(people, "Waiting")
    unrouted = report(people, "Unrouted", impact="low", urgency="low")
    high = PriorityLevel.objects.get(tenant=people.acme, slug="high")
    client = login(people.alice)
    assert _open(client, people, state="diagnosing") == [taken.number]
    assert _open(client, people, priority=high.pk) == [taken.number]
    assert sorted(_open(client, people, group=people.group.pk)) == [taken.number, waiting.number]
    assert _open(client, people, group="none") == [unrouted.number]
    assert _open(client, people, assignee="me") == [taken.number]
    assert _open(client, people, assignee=people.alice.pk) == [taken.number]
    assert sorted(_open(client, people, assignee="none")) == [waiting.number, unrouted.number]
    assert sorted(_open(client, people, category=people.network.pk)) == [
        taken.number,
        waiting.number,
    ]
    assert _open(client, people, category="none") == [unrouted.number]


def test_filters_by_reported_period_in_the_tenant_calendar(people, login):
    old = report(people, "Last month")
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=30))
    today = report(people, "Today")
    day = timezone.localdate()
    client = login(people.alice)
    assert _open(client, people, reported_from=day.isoformat()) == [today.number]
    before = (day - timedelta(days=10)).isoformat()
    assert _open(client, people, reported_to=before) == [old.number]


def test_the_filters_stay_in_the_url_and_in_the_form(people, login):
    client = login(people.alice)
    html = client.get(queue_url(people, queue="open", q="vpn", state="escalated")).content.decode()
    assert 'value="vpn"' in html
    assert '<option value="escalated" selected>' in html
    # Switching queue keeps the filters; the tab links carry them.
    assert "queue=on_hold" in html and "q=vpn" in html


def test_a_bad_filter_value_is_ignored_and_reported(people, login):
    incident = report(people, "Still listed")
    html = (
        login(people.alice)
        .get(queue_url(people, queue="open", state="exploded", reported_from="yesterday"))
        .content.decode()
    )
    assert row_numbers(html) == [incident.number]
    assert "Some filters were not understood" in html


def test_search_matches_number_title_and_description(people, login):
    vpn = report(people, "VPN drops every hour", description="Since the router upgrade")
    printer = report(people, "Printer jammed", description="Paper tray two")
    client = login(people.alice)
    assert _open(client, people, q="vpn") == [vpn.number]
    assert _open(client, people, q="router") == [vpn.number]
    assert _open(client, people, q="paper+tray") == [printer.number]
    assert _open(client, people, q=printer.reference) == [printer.number]
    assert _open(client, people, q=str(printer.number)) == [printer.number]
    assert _open(client, people, q="nothing-like-this") == []


def test_search_matches_a_half_typed_word(people, login):
    vpn = report(people, "Connection drops on the VPN")
    assert _open(login(people.alice), people, q="connec") == [vpn.number]


@pytest.mark.postgres
def test_search_is_full_text_on_postgres(people, login):
    """Stemming: 'printers' finds 'printer', which LIKE would not."""
    printer = report(people, "The printer on floor two is offline")
    assert _open(login(people.alice), people, q="printers") == [printer.number]


@pytest.mark.postgres
def test_postgres_search_uses_the_tenant_leading_gin_index(people):
    bulk_incidents(people.acme, 3000, title="Printer out of toner")
    report(people, "VPN drops")
    qs = apply_search(Incident.objects.for_tenant(people.acme), "vpn", tenant_id=people.acme.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on incident_search" in plan, plan
    # ... and the index finds this tenant's matches only, not every tenant's for a filter.
    assert re.search(r"Index Cond: \(\(tenant_id = '?\d+'?::bigint\) AND", plan), plan


@pytest.mark.postgres
def test_queue_pages_read_the_queue_indexes_on_postgres(people):
    """The page query walks a partial index in sort order and stops: no sort of the backlog."""
    bulk_incidents(people.acme, 2000, title="Backlog")  # enough rows for real plans
    report(people, "Any")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
    user = people.alice
    plans = {}
    # "Breaching soon" sorts by its clocks' due time, read through a subquery: it is left out.
    for queue in ("open", "mine", "unassigned"):
        qs = (
            Incident.objects.for_tenant(people.acme)
            .filter(selectors.queue_condition(queue, user_id=user.pk, group_ids=[people.group.pk]))
            .order_by(*selectors.QUEUES[queue].order)[:50]
        )
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            sql, params = qs.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plans[queue] = "\n".join(row[0] for row in cursor.fetchall())
    assert "incident_open_queue" in plans["open"]
    assert "incident_open_assignee" in plans["mine"]
    assert re.search(r"incident_open_(assignee|queue)", plans["unassigned"])
    assert not [queue for queue, plan in plans.items() if "Sort" in plan], plans


def test_the_polled_rows_mark_new_and_changed_incidents_and_bring_the_counts(people, login):
    old = routed(people, "There before")
    untouched = routed(people, "Still the same")
    since = int(timezone.now().timestamp() * 1_000_000)
    services.comment_add(incident=old, actor=people.actor(people.alice), body="Looking")
    new = routed(people, "Arrived since")
    response = login(people.alice).get(
        queue_url(people, queue="open", partial="rows", since=since),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.startswith('<tbody id="queue-rows"')
    assert "<h1>" not in html  # only the rows, and the counts out of band
    assert 'id="queue-counts" class="queue-tabs" aria-label="Queues" hx-swap-oob="true"' in html
    rows = dict(re.findall(r'<tr data-number="(\d+)"[^>]*?(?: class="mark-(\w+)")?>', html))
    assert rows == {str(old.number): "changed", str(untouched.number): "", str(new.number): "new"}
    # The next poll keeps the same "since": marks stay until the agent reloads the page.
    assert f"since={since}" in html
