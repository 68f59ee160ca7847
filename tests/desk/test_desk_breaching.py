""" "Breaching soon" holds the open incidents whose response or resolution clock has passed its
first warning or breached, once each, the soonest deadline first; its tab counts the same rows,
and on PostgreSQL both read the live clocks' indexes instead of every open incident."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils import timezone

from desk import selectors
from desk.selectors import QueueFilters, queue_counts, queue_queryset
from escalation.models import ClockState, Metric, SlaClock
from escalation.services.defaults import around_the_clock_calendar
from incidents import services
from incidents.models import Incident
from tests.desk.breaching_support import reported_ago, round_the_clock_targets
from tests.desk.desk_support import bulk_incidents, queue_url, row_numbers
from tests.desk.test_desk_queries import _count

MIN = timedelta(minutes=1)


def _counts(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-queue="(\w+)">([^<]*)<', html))


def _page(client, people, **params) -> str:
    return client.get(queue_url(people, queue="breaching", **params)).content.decode()


def test_only_incidents_past_a_warning_or_breached_are_listed_soonest_deadline_first(people, login):
    round_the_clock_targets(people)  # 1 h to respond, 10 h to resolve, warning at 75%
    calm = reported_ago(people, "At 10% of both clocks", 6 * MIN)
    near = reported_ago(people, "At 80% of its response clock", 48 * MIN)
    nearer = reported_ago(people, "At 90% of its response clock", 54 * MIN)
    breached = reported_ago(people, "Response breached", 2 * 60 * MIN)
    html = _page(login(people.alice), people)
    assert row_numbers(html) == [breached.number, nearer.number, near.number]
    assert calm.number not in row_numbers(html)
    assert _counts(html)["breaching"] == "3" and _counts(html)["open"] == "4"


def test_an_answered_incident_stays_while_its_resolution_clock_is_past_the_warning(people, login):
    round_the_clock_targets(people)
    alice = people.actor(people.alice)
    late = reported_ago(
        people, "Answered, 80% of the resolution", 8 * 60 * MIN, category=people.network
    )
    # Answered after its response breach: the response clock stops; the resolution one runs on.
    services.incident_accept(incident=late, actor=alice)
    answered_early = reported_ago(people, "Answered at once", 30 * MIN, category=people.network)
    services.incident_accept(incident=answered_early, actor=alice)
    html = _page(login(people.alice), people)
    assert row_numbers(html) == [late.number]
    row = re.search(rf'<tr data-number="{late.number}".*?</tr>', html, re.DOTALL)
    assert row and "Response: <span" in row.group(0) and "Resolution: <span" in row.group(0)
    assert re.search(r'data-colour="warning">due in 1 h', row.group(0)), row.group(0)


def test_both_clocks_warned_list_the_incident_once_and_count_it_once(people, login):
    round_the_clock_targets(people)
    both = reported_ago(people, "Everything late", 9 * 60 * MIN)  # response breached, 90%
    html = _page(login(people.alice), people)
    assert row_numbers(html) == [both.number]
    assert _counts(html)["breaching"] == "1"


def test_paused_resolved_and_another_tenants_incidents_stay_out(people, login):
    round_the_clock_targets(people)
    alice = people.actor(people.alice)
    held = reported_ago(people, "Held", 50 * MIN, category=people.network)
    held = services.incident_accept(incident=held, actor=alice)
    services.incident_hold(incident=held, actor=alice, hold_reason="awaiting_caller")
    resolved = reported_ago(people, "Resolved", 50 * MIN, category=people.network)
    services.incident_resolve(
        incident=resolved, actor=alice, resolution_code="known-error", resolution_notes="Fixed."
    )
    shown = reported_ago(people, "Still waiting", 50 * MIN)
    html = _page(login(people.alice), people)
    assert row_numbers(html) == [shown.number]
    assert _counts(html)["breaching"] == "1"


def test_a_resolved_breach_is_set_aside_until_the_incident_is_reopened(people, login):
    """Resolved, an incident whose resolution clock breached leaves the list and the count (the
    clock is set aside: still breached, stopped at the resolve); reopened, it is back."""
    round_the_clock_targets(people)
    alice = people.actor(people.alice)
    late = reported_ago(people, "Resolution breached", 11 * 60 * MIN, category=people.network)
    near = reported_ago(people, "Near", 50 * MIN)
    client = login(people.alice)
    html = _page(client, people)
    assert row_numbers(html) == [late.number, near.number] and _counts(html)["breaching"] == "2"

    late = services.incident_resolve(
        incident=late, actor=alice, resolution_code="known-error", resolution_notes="Fixed."
    )
    clock = SlaClock.objects.get(incident=late, metric=Metric.RESOLUTION)
    assert (clock.state, clock.stopped_at) == (ClockState.BREACHED, late.resolved_at)
    html = _page(client, people)
    assert row_numbers(html) == [near.number] and _counts(html)["breaching"] == "1"
    resolved = client.get(queue_url(people, queue="resolved")).content.decode()
    assert row_numbers(resolved) == [late.number]
    assert 'data-colour="breached">Breached<' in resolved  # not "Breached 1 h ago"

    services.incident_reopen(incident=late, actor=people.actor(people.rita), reason="Again")
    clock.refresh_from_db()
    assert (clock.state, clock.stopped_at) == (ClockState.BREACHED, None)
    html = _page(client, people)
    assert row_numbers(html) == [late.number, near.number] and _counts(html)["breaching"] == "2"


def test_the_queue_reads_no_incident_state(people):
    """Every live clock is an open incident's (LIVE_CLOCK_CONDITION), so the list and its count
    filter the clocks only: a state condition on the incidents made PostgreSQL misjudge the
    join and sort the whole list."""
    qs = _breaching(people)
    _select, where = str(qs.query).split(" WHERE ", 1)
    assert '"incidents_incident"."state"' not in where and '"escalation_slaclock"."state"' in where
    condition = selectors.queue_condition("breaching", user_id=people.alice.pk, group_ids=[])
    assert not condition


def test_pages_follow_the_deadline_and_the_count_agrees(people, login, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    round_the_clock_targets(people)
    made = [reported_ago(people, f"N{n}", (46 + 3 * n) * MIN) for n in range(5)]
    reported_ago(people, "Not yet", 10 * MIN)
    client = login(people.alice)
    html, pages = _page(client, people), []
    while True:
        pages.append(row_numbers(html))
        following = _link(html, "next")
        if not following:
            break
        html = client.get(following).content.decode()
    expected = [i.number for i in reversed(made)]  # the oldest report is due first
    assert pages == [expected[:2], expected[2:4], expected[4:]]
    assert _counts(html)["breaching"] == "5"
    back = client.get(_link(html, "prev") or "").content.decode()
    assert row_numbers(back) == expected[2:4]


def _breaching(people):
    """Alice's Breaching soon, without filters, as a queryset."""
    return queue_queryset(
        tenant=people.acme,
        user=people.alice,
        group_ids=[people.group.pk],
        queue="breaching",
        filters=QueueFilters(),
    )


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_page_runs_the_same_queries_for_3_or_23_rows(people, login):
    round_the_clock_targets(people)
    for n in range(3):
        reported_ago(people, f"Near {n}", 50 * MIN)
    client = login(people.alice)
    few = _count(client, queue_url(people, queue="breaching"))
    for n in range(20):
        reported_ago(people, f"More {n}", 55 * MIN)
    assert _count(client, queue_url(people, queue="breaching")) == few
    html = _page(client, people)
    assert len(row_numbers(html)) == 23 and html.count('class="sla-badge"') == 46


# --- the plan on PostgreSQL ---------------------------------------------------------------------


def _clocks_for_every_incident(tenant, *, warned: bool) -> None:
    """Two running clocks on every incident, due days ahead, past their warning or not."""
    calendar = around_the_clock_calendar(tenant)
    now = timezone.now()
    warn_at = now - timedelta(minutes=5) if warned else now + timedelta(days=1)
    SlaClock.objects.bulk_create(
        (
            SlaClock(
                tenant=tenant,
                incident_id=pk,
                metric=metric,
                calendar=calendar,
                priority_slug="medium",
                target_seconds=3 * 86400,
                started_at=reported,
                running_since=reported,
                due_at=reported + timedelta(days=days),
                warn_at=warn_at,
                next_check_at=warn_at,
                state=ClockState.RUNNING,
            )
            for pk, reported in Incident.objects.filter(tenant=tenant).values_list(
                "pk", "reported_at"
            )
            for metric, days in ((Metric.RESPONSE, 3), (Metric.RESOLUTION, 9))
        ),
        batch_size=2000,
    )


def _plans(people) -> tuple[str, str, str]:
    """EXPLAIN of the first page, a later page (a cursor) and the capped count, as the big
    tables of a real desk would have them (no sequential scan of a few thousand rows)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE escalation_slaclock")
    qs = _breaching(people)
    order = selectors.QUEUES["breaching"].order
    later = qs.filter(TupleGreaterThan(Tuple(F("sla_due"), F("sla_clock_id")), (timezone.now(), 0)))
    plans = []
    for query in (qs.order_by(*order)[:51], later.order_by(*order)[:51], qs.values("id")[:1000]):
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans[0], plans[1], plans[2]


@pytest.mark.postgres
def test_a_long_breaching_list_is_read_in_due_order_from_the_live_clocks(people):
    bulk_incidents(people.acme, 3000, title="Backlog")
    _clocks_for_every_incident(people.acme, warned=True)
    first, later, count = _plans(people)
    for plan in (first, later):
        assert "slaclock_tenant_live_due" in plan, plan
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
    assert re.search(r"Index Cond: .*\(due_at, id\) >", later), later
    # Everything qualifies: any index walk that stops after 1,000 rows will do, but no scan.
    assert count.startswith("Limit") and "Seq Scan" not in count and "Sort" not in count, count
    counts = queue_counts(tenant=people.acme, user_id=people.alice.pk, group_ids=[])
    assert counts["breaching"] == counts["open"] == "999+"


@pytest.mark.postgres
def test_a_short_breaching_list_is_found_from_the_warning_times(people):
    bulk_incidents(people.acme, 3000, title="Backlog")
    _clocks_for_every_incident(people.acme, warned=False)
    round_the_clock_targets(people)
    near = reported_ago(people, "Near", 50 * MIN)
    first, _later, count = _plans(people)
    for plan in (first, count):
        assert re.search(r"slaclock_tenant_live_(due|warn)", plan), plan
        assert "Seq Scan" not in plan and "incident_open" not in plan, plan
    assert "slaclock_tenant_live_warn" in count, count
    counts = queue_counts(tenant=people.acme, user_id=people.alice.pk, group_ids=[])
    assert counts["breaching"] == "1" and counts["open"] == "999+"
    assert near.number is not None


def test_the_count_past_its_cap_with_both_clocks_of_every_incident_warned(people, monkeypatch):
    """The tab is counted from the clocks alone: the first 2 * (cap + 1) warned clocks name more
    than `cap` incidents whenever the queue holds that many, each counted once."""
    bulk_incidents(people.acme, 6, title="Late")
    _clocks_for_every_incident(people.acme, warned=True)  # twelve warned clocks, two each

    def shown(cap: int) -> str:
        monkeypatch.setattr(selectors, "COUNT_CAP", cap)
        return queue_counts(tenant=people.acme, user_id=people.alice.pk, group_ids=[])["breaching"]

    assert [shown(cap) for cap in (2, 5, 6, 7)] == ["2+", "5+", "6", "6"]
