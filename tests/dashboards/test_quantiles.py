"""Medians and p90 from bucket counts and one look inside the buckets: on a few hundred
incidents with awkward durations (ties, zeros, fractions of a second, negative ones, values on
bucket edges), the figures are exactly those of sorting every duration, for any period and
filter, whether the counts come from the running totals or from the facts; and a second look
(the cache) gives what the first one computed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from dashboards.models import FiguresCache, IncidentFact, RollupState
from dashboards.selectors.period import period_compute, period_durations, period_figures
from dashboards.selectors.quantiles import Durations
from dashboards.selectors.scope import Scope
from dashboards.services import rollups_rebuild
from incidents.models import AssignmentGroup, Incident, PriorityLevel
from tenancy.models import TenantCounter
from tests.factories import GroupFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2026, 9, 1)
DAYS = 60
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
# Durations (seconds) chosen to be awkward for buckets: many equal ones, zero, under a second,
# negative (an acknowledgement recorded before the report), on and next to powers of two.
AWKWARD = [0.0, 0.25, 0.999999, 1.0, -30.0, 300.0, 300.0, 300.0, 1024.0, 1023.999999, 1024.000001]


def percentile_cont(values: list[float], fraction: float) -> float | None:
    """PostgreSQL's percentile_cont, written out from its documentation."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _duration(rng: random.Random) -> timedelta:
    if rng.random() < 0.3:
        return timedelta(seconds=rng.choice(AWKWARD))
    return timedelta(microseconds=int(rng.lognormvariate(8, 2.5) * 1_000_000))


@dataclass
class History:
    incidents: list[Incident]
    other_group: AssignmentGroup


def _incidents(people, count: int = 400) -> History:
    """Incidents reported over 60 days, acknowledged and most resolved after random durations."""
    rng = random.Random(7)
    levels = list(PriorityLevel.objects.filter(tenant=people.acme))
    other = GroupFactory.create(tenant=people.acme, name="Messaging", slug="messaging")
    made = []
    for n in range(count):
        reported = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC) + timedelta(
            minutes=rng.randrange(DAYS * 24 * 60)
        )
        acknowledged = reported + _duration(rng)
        resolved = acknowledged + abs(_duration(rng)) if rng.random() < 0.8 else None
        level = rng.choice(levels)
        made.append(
            Incident(
                tenant=people.acme,
                number=n + 1,
                title=f"Incident {n}",
                state="resolved" if resolved else "diagnosing",
                priority=level,
                priority_rank=level.rank,
                group=rng.choice([people.group, other, None]),
                category=rng.choice([people.network, None]),
                assignee=rng.choice([people.alice, people.bob, None]),
                reported_at=reported,
                acknowledged_at=acknowledged,
                resolved_at=resolved,
                updated_at=NOW,
            )
        )
    incidents = Incident.objects.bulk_create(made)
    TenantCounter.objects.filter(tenant=people.acme, name="incident").update(value=count)
    return History(incidents, other)


@pytest.fixture(params=["UTC", "America/New_York"])  # New York leaves summer time on 1 Nov
def history(people, request):
    people.acme.time_zone = request.param
    people.acme.save(update_fields=["time_zone"])
    history = _incidents(people)
    with time_machine.travel(NOW, tick=False):
        rollups_rebuild(tenant=people.acme)
    return history


def expected(history: History, scope: Scope) -> Durations:
    """Every duration of the scope, sorted: the figures worked out in Python."""

    def chosen(incident: Incident, at: datetime | None) -> bool:
        day = None if at is None else at.astimezone(scope.tz).date()
        wanted = {"group": incident.group_id, "category": incident.category_id}
        for name, value in wanted.items():
            asked = getattr(scope, name)
            if asked and value != (None if asked == "none" else int(asked)):
                return False
        if scope.priority and incident.priority_id != int(scope.priority):
            return False
        return day is not None and scope.date_from <= day <= scope.date_to

    def spread(values: list[float]):
        from dashboards.selectors.sql import Spread

        if not values:
            return {"wall": Spread(), "business": Spread()}
        wall = Spread(len(values), percentile_cont(values, 0.5), percentile_cont(values, 0.9))
        return {"wall": wall, "business": Spread()}  # no SLA clocks: no business time

    acked = [i for i in history.incidents if chosen(i, i.acknowledged_at)]
    resolved = [i for i in history.incidents if chosen(i, i.resolved_at)]
    seconds = {
        "ack": lambda i: (i.acknowledged_at - i.reported_at).total_seconds(),
        "resolve": lambda i: (i.resolved_at - i.reported_at).total_seconds(),
    }
    by_level: dict[int, list[float]] = {}
    for incident in resolved:
        by_level.setdefault(incident.priority_id, []).append(seconds["resolve"](incident))
    resolvers: dict[int, int] = {}
    for incident in resolved:
        if incident.assignee_id:
            resolvers[incident.assignee_id] = resolvers.get(incident.assignee_id, 0) + 1
    return Durations(
        ack=spread([seconds["ack"](i) for i in acked]),
        resolve=spread([seconds["resolve"](i) for i in resolved]),
        resolve_by_priority={key: spread(values) for key, values in by_level.items()},
        resolved_by=resolvers,
    )


def scopes(people, history: History) -> dict[str, Scope]:
    medium = PriorityLevel.objects.get(tenant=people.acme, slug="medium")

    def scope(first: date, last: date, **filters) -> Scope:
        return Scope(first, last, tz=ZoneInfo(people.acme.time_zone), **filters)

    return {
        "everything": scope(FIRST_DAY - timedelta(days=5), FIRST_DAY + timedelta(days=90)),
        "30 days inside": scope(date(2026, 9, 10), date(2026, 10, 9)),
        "one day": scope(date(2026, 9, 20), date(2026, 9, 20)),
        "before the first day": scope(date(2026, 8, 1), date(2026, 8, 31)),
        "after the last day": scope(date(2026, 12, 1), date(2026, 12, 31)),
        "one priority": scope(date(2026, 9, 10), date(2026, 10, 9), priority=str(medium.pk)),
        "one group": scope(date(2026, 9, 10), date(2026, 10, 9), group=str(history.other_group.pk)),
        "no category": scope(FIRST_DAY, date(2026, 10, 31), category="none"),
    }


def test_the_figures_are_those_of_sorting_every_duration(people, history):
    for name, scope in scopes(people, history).items():
        found = period_durations(people.acme, scope)
        assert found == expected(history, scope), name


def test_running_totals_and_counting_the_facts_give_the_same_figures(people, history):
    for name, scope in scopes(people, history).items():
        from_totals = period_durations(people.acme, scope)
        assert from_totals == period_durations(people.acme, scope, count_facts=True), name
    assert from_totals.ack["wall"].n > 0  # the scopes are not all empty


def test_the_durations_span_many_buckets_in_order(people, history):
    facts = IncidentFact.objects.filter(tenant=people.acme, resolve_seconds__isnull=False)
    pairs = sorted(facts.values_list("resolve_seconds", "resolve_bucket"))
    buckets = [bucket for _seconds, bucket in pairs]
    assert buckets == sorted(buckets)  # a longer duration never lies in an earlier bucket
    assert len(set(buckets)) > 40
    zeros = IncidentFact.objects.filter(tenant=people.acme, ack_seconds=0)
    assert set(zeros.values_list("ack_bucket", flat=True)) == {1}


@pytest.mark.postgres
def test_the_figures_match_percentile_cont_over_the_facts(people, history):
    scope = scopes(people, history)["30 days inside"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolve_seconds), "
            "count(*) FROM dashboards_incidentfact WHERE tenant_id = %s AND resolved_at >= %s "
            "AND resolved_at < %s",
            [people.acme.pk, scope.start, scope.end],
        )
        (median, p90), n = cursor.fetchone()
    found = period_durations(people.acme, scope).resolve["wall"]
    assert (found.n, found.median, found.p90) == (n, median, p90)


def test_a_fact_the_running_totals_still_count_is_not_a_failure(people, history, caplog):
    scope = scopes(people, history)["30 days inside"]
    gone = [
        i for i in history.incidents if i.resolved_at and i.resolved_at.date() == date(2026, 9, 20)
    ]
    IncidentFact.objects.filter(incident__in=gone).delete()  # as if deleted since the refresh
    history.incidents = [i for i in history.incidents if i not in gone]
    assert gone and period_durations(people.acme, scope) == expected(history, scope)
    assert "running totals disagree with its facts" in caplog.text


def test_a_second_look_gives_what_the_first_computed(people, history):
    state = RollupState.objects.get(tenant=people.acme)
    for name, scope in scopes(people, history).items():
        FiguresCache.objects.all().delete()
        cold = period_figures(people.acme, scope, state)
        assert FiguresCache.objects.filter(key=scope.key).exists()
        warm = period_figures(people.acme, scope, state)
        assert warm == cold == period_compute(people.acme, scope), name


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_figures_are_read_in_one_snapshot(people, history):
    assert not connection.in_atomic_block
    scope = scopes(people, history)["30 days inside"]
    assert period_compute(people.acme, scope).resolve == expected(history, scope).resolve
