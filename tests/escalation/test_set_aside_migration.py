"""Migration escalation 0016 sets aside the breached resolution clocks the code before the rule
left counting on resolved incidents: stopped at the incident's resolved_at (now when it has
none), in every tenant; nothing else moves. Its RunPython function, run on rows made as they
were before the rule."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.apps import apps
from django.db import connection

from escalation.models import ClockState, Metric, SlaClock
from escalation.models.sla import LIVE_CLOCK_CONDITION
from incidents import services
from incidents.models import Incident
from incidents.models.incident import OPEN_STATES
from tests.escalation.sla_helpers import MONDAY_10, report_high

pytestmark = pytest.mark.django_db

MIGRATION = import_module("escalation.migrations.0016_set_aside_breached_resolution_clocks")
DUE = MONDAY_10 + timedelta(hours=4)
RESOLVED = MONDAY_10 + timedelta(hours=6)


def _clock(incident: Incident) -> SlaClock:
    return SlaClock.objects.get(incident=incident, metric=Metric.RESOLUTION)


def _as_before_the_rule(incident: Incident, **incident_fields) -> None:
    """The resolution clock as the code before the rule left it: breached and never stopped."""
    SlaClock.objects.filter(incident=incident, metric=Metric.RESOLUTION).update(
        state=ClockState.BREACHED, breached_at=DUE, due_at=DUE, warn_at=DUE, stopped_at=None,
        running_since=None, next_check_at=None, checkpoints=[],
    )  # fmt: skip
    if incident_fields:
        Incident.objects.filter(pk=incident.pk).update(**incident_fields)


def _resolve(people, incident: Incident) -> Incident:
    accepted = services.incident_accept(incident=incident, actor=people.actor(people.alice))
    return services.incident_resolve(
        incident=accepted,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Fixed",
    )


def _migrate() -> None:
    with connection.schema_editor() as editor:
        MIGRATION.set_aside_resolved(apps, editor)


def test_the_backfill_sets_aside_the_breached_clocks_of_resolved_incidents(people):
    with time_machine.travel(RESOLVED, tick=False):
        resolved = _resolve(people, report_high(people))
        undated = _resolve(people, report_high(people))
        still_open = services.incident_accept(
            incident=report_high(people), actor=people.actor(people.alice)
        )
        closed = _resolve(people, report_high(people))
        services.incident_close(incident=closed, actor=people.actor(people.rita), rating=3)
        charlie = people.actor(people.charlie, people.globex)
        elsewhere = services.incident_report(actor=charlie, title="Down")
        elsewhere = services.incident_escalate(
            incident=elsewhere, actor=charlie, assignee=people.charlie
        )
        elsewhere = services.incident_accept(incident=elsewhere, actor=charlie)
        elsewhere = services.incident_resolve(
            incident=elsewhere, actor=charlie, resolution_code="solved-permanently",
            resolution_notes="Fixed",
        )  # fmt: skip
    for incident in (resolved, undated, still_open, elsewhere):
        _as_before_the_rule(incident)
    Incident.objects.filter(pk=undated.pk).update(resolved_at=None)
    closed_at = RESOLVED + timedelta(days=1)
    SlaClock.objects.filter(pk=_clock(closed).pk).update(
        state=ClockState.BREACHED, stopped_at=closed_at
    )
    not_open = SlaClock.objects.filter(LIVE_CLOCK_CONDITION).exclude(
        incident__state__in=OPEN_STATES
    )
    assert not_open.count() == 3  # resolved, undated, elsewhere: what the rule forbids now

    _migrate()
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")  # the transaction's: CURRENT_TIMESTAMP in the UPDATE
        (now,) = cursor.fetchone()

    assert (_clock(resolved).state, _clock(resolved).stopped_at) == (ClockState.BREACHED, RESOLVED)
    assert (_clock(resolved).breached_at, _clock(resolved).due_at) == (DUE, DUE)
    assert _clock(undated).stopped_at == now  # no resolve time recorded: the migration's
    assert _clock(elsewhere).stopped_at == RESOLVED  # every tenant's
    assert _clock(still_open).stopped_at is None  # counts against its open incident
    assert _clock(closed).stopped_at == closed_at  # stopped already: left as it is
    assert not not_open.exists()

    _migrate()  # run again (a retried deploy): nothing more moves
    assert _clock(undated).stopped_at == now and _clock(resolved).stopped_at == RESOLVED
