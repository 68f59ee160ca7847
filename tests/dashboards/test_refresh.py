"""Keeping the dashboard tables current: the incremental refresh follows every kind of change
and lands where a full rebuild lands; the beat task, the command and the lock."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from dashboards.models import COUNTERS, CumulativeCounts, DailyRollup, IncidentFact, RollupState
from dashboards.selectors import dashboard_data, tenant_choices
from dashboards.selectors.histograms import SERIES
from dashboards.selectors.scope import Scope
from dashboards.services import rollups_rebuild, rollups_refresh
from dashboards.tasks import refresh_rollups, refresh_tenant_rollups
from escalation.services.sweep import sweep_due
from incidents import services
from tests.dashboards.scenario import HOUR, PERIOD, VIEWED_AT, at, build

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def rollup_rows(tenant) -> list[tuple]:
    fields = ["day", "group_id", "category_id", "priority_id", *COUNTERS]
    rows = DailyRollup.objects.for_tenant(tenant).values_list(*fields)
    return sorted(rows, key=lambda r: tuple(str(v) for v in r))


def running_totals(tenant) -> list[tuple]:
    fields = ["day", "priority_id", *(s.seconds for s in SERIES), "resolvers", "resolutions"]
    rows = CumulativeCounts.objects.for_tenant(tenant).values_list(*fields)
    return sorted(rows, key=lambda r: (r[0], r[1] or 0))


def fact_rows(tenant) -> dict[int, dict]:
    rows = IncidentFact.objects.for_tenant(tenant).values()
    skip = {"id", "refreshed_at"}
    return {r["incident_id"]: {k: v for k, v in r.items() if k not in skip} for r in rows}


def totals(tenant, first: date, last: date, **filters) -> dict[str, int]:
    scope = Scope(first, last, tz=UTC, **filters)
    return dashboard_data(tenant=tenant, scope=scope, choices=tenant_choices(tenant)).totals


def test_a_refresh_follows_changes_and_matches_a_rebuild(people):
    s = build(people)
    acme, rita, alice = people.acme, people.actor(people.rita), people.actor(people.alice)
    with time_machine.travel(VIEWED_AT, tick=False) as traveller:
        assert rollups_refresh(tenant=acme).rebuilt  # the first refresh builds everything
        before = totals(acme, *PERIOD, group=str(s.messaging.pk))
        friday_before = totals(acme, date(2026, 12, 11), date(2026, 12, 11))
        traveller.move_to(at(11, 13))
        # O4 (reported Monday, no group) goes to Messaging: Monday's counts move with it.
        services.incident_escalate(incident=s.incidents["O4"], actor=alice, group=s.messaging)
        services.incident_close(incident=s.incidents["I5"], actor=rita, rating=1)
        services.incident_report(actor=rita, title="New one", category=people.network)
        # O1's 8 working hours run out at 17:00; the sweep writes the breach on the clock only.
        traveller.move_to(at(11, 17, 30))
        sweep_due(now=at(11, 17, 30))
        result = rollups_refresh(tenant=acme)
        assert not result.rebuilt and result.incidents >= 4
        incremental = (rollup_rows(acme), fact_rows(acme), running_totals(acme))
        after = totals(acme, *PERIOD, group=str(s.messaging.pk))
        friday = totals(acme, date(2026, 12, 11), date(2026, 12, 11))
        rollups_rebuild(tenant=acme)
    assert (before["created"], after["created"]) == (1, 2)  # I5, then O4 too
    assert (before["response_breached"], after["response_breached"]) == (0, 1)  # O4's
    assert (friday_before["created"], friday["created"]) == (1, 2)  # O1, then the new one
    assert (friday_before["closed"], friday["closed"], friday["rating_1"]) == (0, 1, 1)  # I5
    # O5 and O6 breached on Friday morning; O1 (8 working hours) and O3 (40, on hold for a
    # vendor, which does not pause) at 17:00, found through their clocks alone.
    assert (friday_before["resolution_breached"], friday["resolution_breached"]) == (2, 4)
    assert IncidentFact.objects.get(incident=s.incidents["O1"]).resolution_outcome == "breached"
    assert (rollup_rows(acme), fact_rows(acme), running_totals(acme)) == incremental


def spreads(tenant, first: date, last: date) -> tuple:
    scope = Scope(first, last, tz=UTC)
    data = dashboard_data(tenant=tenant, scope=scope, choices=tenant_choices(tenant))
    return data.ack["wall"].n, data.resolve["wall"].n, data.resolve["wall"].median


def test_a_refresh_moves_durations_between_days_as_a_rebuild_does(people):
    s = build(people)
    acme, rita, bob = people.acme, people.actor(people.rita), people.actor(people.bob)
    friday = (date(2026, 12, 11), date(2026, 12, 11))
    with time_machine.travel(VIEWED_AT, tick=False) as traveller:
        rollups_refresh(tenant=acme)
        before = spreads(acme, *PERIOD), spreads(acme, *friday)
        # I5, resolved on Tuesday 1 December, is reopened and resolved again on Friday; O1,
        # reported at 08:00, is accepted at 13:00.
        traveller.move_to(at(11, 13))
        services.incident_reopen(incident=s.incidents["I5"], actor=rita, reason="Down again")
        services.incident_accept(incident=s.incidents["O1"], actor=bob)
        traveller.move_to(at(11, 14))
        services.incident_resolve(
            incident=s.incidents["I5"],
            actor=bob,
            resolution_code="solved-permanently",
            resolution_notes="Replaced the switch.",
        )
        rollups_refresh(tenant=acme)
        after = spreads(acme, *PERIOD), spreads(acme, *friday)
        incremental = running_totals(acme), fact_rows(acme)
        rollups_rebuild(tenant=acme)
    assert before == ((7, 6, 3.5 * HOUR), (0, 0, None))
    # I5 (reported Monday 30 November 13:00) now counts on Friday 11 December, after 11 days
    # and 1 hour; the period keeps 1, 2, 3, 4 and 27 hours.
    assert after == ((7, 5, 3 * HOUR), (1, 1, 265 * HOUR))
    assert (running_totals(acme), fact_rows(acme)) == incremental


def test_a_refresh_with_nothing_changed_writes_nothing_new(people):
    build(people)
    with time_machine.travel(VIEWED_AT, tick=False) as traveller:
        rollups_refresh(tenant=people.acme)
        rows, totals = rollup_rows(people.acme), running_totals(people.acme)
        traveller.move_to(VIEWED_AT + timedelta(hours=1))
        result = rollups_refresh(tenant=people.acme)
    # Only the day-old breaches are looked at again, and they land where they were.
    assert result.rebuilt is False
    assert rollup_rows(people.acme) == rows
    assert running_totals(people.acme) == totals
    state = RollupState.objects.get(tenant=people.acme)
    assert state.refreshed_at == VIEWED_AT + timedelta(hours=1)


def test_the_beat_task_refreshes_every_active_tenant(people):
    services.incident_report(
        actor=people.actor(people.rita), title="Printer", category=people.network
    )
    assert refresh_rollups.apply().get() == 2  # eager in tests: each tenant's task runs
    assert IncidentFact.objects.for_tenant(people.acme).count() == 1
    assert RollupState.objects.filter(tenant=people.globex, refreshed_at__isnull=False).exists()
    assert refresh_tenant_rollups.apply(args=(999999,)).get() == 0  # a tenant gone: quietly


def test_beat_schedules_the_refresh():
    entry = settings.CELERY_BEAT_SCHEDULE["dashboards-refresh-rollups"]
    assert entry["task"] == "dashboards.refresh_rollups"
    assert entry["schedule"] == settings.DASHBOARD_REFRESH_SECONDS


def test_the_command_rebuilds_one_tenant_or_all(people):
    services.incident_report(
        actor=people.actor(people.rita), title="Printer", category=people.network
    )
    out = StringIO()
    call_command("rebuild_dashboard_rollups", "--tenant", "acme", stdout=out)
    assert out.getvalue().startswith("acme: 1 incidents, 1 rollup rows")
    assert not RollupState.objects.filter(tenant=people.globex).exists()
    call_command("rebuild_dashboard_rollups", stdout=out)
    assert "globex: 0 incidents" in out.getvalue()
    with pytest.raises(CommandError, match="No tenant with the slug 'nope'"):
        call_command("rebuild_dashboard_rollups", "--tenant", "nope")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_refresh_of_a_tenant_steps_aside_while_one_runs(people):
    rollups_refresh(tenant=people.acme)
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                RollupState.objects.select_for_update().get(tenant=people.acme)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        assert rollups_refresh(tenant=people.acme).skipped
        assert rollups_refresh(tenant=people.globex).skipped is False  # other tenants go on
    finally:
        release.set()
        holder.join()
    assert rollups_refresh(tenant=people.acme).skipped is False
