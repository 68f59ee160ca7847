"""Each figure of the dashboard on the hand-made history of scenario.py, answers worked out by
hand (the table there says who did what when)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from dashboards.selectors import dashboard_data, tenant_choices
from dashboards.selectors.scope import Scope
from incidents.models import PriorityLevel
from tests.dashboards.scenario import HOUR, MIN, PERIOD, viewed

pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(people):
    with viewed(people) as history:
        yield history


def figures(tenant, **filters):
    scope = Scope(*PERIOD, tz=ZoneInfo("UTC"), **filters)
    return dashboard_data(tenant=tenant, scope=scope, choices=tenant_choices(tenant))


def level(people, slug: str) -> PriorityLevel:
    return PriorityLevel.objects.get(tenant=people.acme, slug=slug)


def test_created_and_resolved_are_counted_on_their_own_days(people, scenario):
    data = figures(people.acme)
    per_day = {day: (c["created"], c["resolved"]) for day, c in data.per_day}
    assert len(per_day) == 7  # every day of the period, quiet ones too
    # Monday: I1-I6 and O4 reported; I1-I4 resolved (I2 counts once, on its last resolution).
    assert per_day[date(2026, 11, 30)] == (7, 4)
    assert per_day[date(2026, 12, 1)] == (0, 2)  # I5 and I6
    assert per_day[date(2026, 12, 5)] == (1, 0)  # O3, on a Saturday
    assert per_day[date(2026, 12, 3)] == (0, 0)
    assert (data.totals["created"], data.totals["resolved"]) == (8, 6)  # O8 was before


def test_time_to_acknowledge_median_and_p90(people, scenario):
    data = figures(people.acme)
    # I1-I6 and O3 (accepted on Saturday after 30 minutes): 5, 10, 10, 20, 30, 40, 60 minutes.
    # Median: the 4th; p90 at position 5.4: 40 + 0.4 x (60 - 40).
    assert data.ack["wall"].n == 7
    assert data.ack["wall"].median == pytest.approx(20 * MIN)
    assert data.ack["wall"].p90 == pytest.approx(48 * MIN)
    # In business time O3 took nothing (a Saturday): 0, 5, 10, 10, 20, 40, 60. I4's response
    # clock stopped at its 30-minute target when it breached; the 10 working minutes until
    # the accept come from the calendar.
    assert data.ack["business"].n == 7
    assert data.ack["business"].median == pytest.approx(10 * MIN)
    assert data.ack["business"].p90 == pytest.approx(48 * MIN)


def test_time_to_resolve_median_and_p90_in_wall_and_business_time(people, scenario):
    data = figures(people.acme)
    # Wall: 1, 2 (I2's last resolution), 3, 4, 22 and 27 hours.
    assert data.resolve["wall"].n == 6
    assert data.resolve["wall"].median == pytest.approx(3.5 * HOUR)
    assert data.resolve["wall"].p90 == pytest.approx(24.5 * HOUR)
    # Business: 1, 1.5 (the half hour I2 waited resolved is not counted), 3, 4, 6 (I5: Monday
    # 13-17 and Tuesday 9-11) and 11 (I6: its 8-hour target, breached Monday 17:00, plus
    # Tuesday 9-12).
    assert data.resolve["business"].median == pytest.approx(3.5 * HOUR)
    assert data.resolve["business"].p90 == pytest.approx(8.5 * HOUR)


def test_time_to_resolve_by_priority(people, scenario):
    data = figures(people.acme)
    medium = data.resolve_by_priority[level(people, "medium").pk]
    high = data.resolve_by_priority[level(people, "high").pk]
    low = data.resolve_by_priority[level(people, "low").pk]
    # medium: 1, 2, 3, 22 h wall; 1, 1.5, 3, 6 h business.
    assert (medium["wall"].n, medium["wall"].median) == (4, pytest.approx(2.5 * HOUR))
    assert medium["wall"].p90 == pytest.approx(16.3 * HOUR)
    assert medium["business"].median == pytest.approx(2.25 * HOUR)
    assert medium["business"].p90 == pytest.approx(5.1 * HOUR)
    # high: 4 and 27 h wall; 4 and 11 h business.
    assert high["wall"].median == pytest.approx(15.5 * HOUR)
    assert high["wall"].p90 == pytest.approx(24.7 * HOUR)
    assert high["business"].median == pytest.approx(7.5 * HOUR)
    assert high["business"].p90 == pytest.approx(10.3 * HOUR)
    assert low["wall"].n == 0 and low["wall"].median is None


def test_sla_compliance_counts_the_clocks_that_ended_in_the_period(people, scenario):
    totals = figures(people.acme).totals
    # Response: I1, I2, I3, I5, I6 in time, O3 accepted on Saturday (no working time yet);
    # I4 accepted after 40 of its 30 minutes, O4 never acknowledged (breached Monday 13:00).
    assert (totals["response_met"], totals["response_breached"]) == (6, 2)
    # Resolution: I1-I4 met when closed; I6 (Monday 17:00), O8 (Monday 10:00) and O4
    # (Wednesday 17:00) breached. I5 is resolved but not closed: its clock has not ended.
    assert (totals["resolution_met"], totals["resolution_breached"]) == (4, 3)


def test_sla_compliance_by_priority_and_by_group(people, scenario):
    data = figures(people.acme)
    medium, high, low = (level(people, s).pk for s in ("medium", "high", "low"))
    assert data.sla_by_priority[medium] == {
        "response_met": 4,
        "response_breached": 1,
        "resolution_met": 3,
        "resolution_breached": 2,
    }
    assert data.sla_by_priority[high] == {
        "response_met": 1,
        "response_breached": 1,
        "resolution_met": 1,
        "resolution_breached": 1,
    }
    assert data.sla_by_priority[low] == {
        "response_met": 1,
        "response_breached": 0,
        "resolution_met": 0,
        "resolution_breached": 0,
    }
    assert data.sla_by_group[people.group.pk] == {
        "response_met": 5,
        "response_breached": 1,
        "resolution_met": 4,
        "resolution_breached": 2,
    }
    assert data.sla_by_group[scenario.messaging.pk] == {
        "response_met": 1,
        "response_breached": 0,
        "resolution_met": 0,
        "resolution_breached": 0,
    }
    assert data.sla_by_group[None] == {  # O4 has no group
        "response_met": 0,
        "response_breached": 1,
        "resolution_met": 0,
        "resolution_breached": 1,
    }


def test_reopen_rate_is_reopens_per_resolution(people, scenario):
    totals = figures(people.acme).totals
    # Seven resolutions (I2 was resolved twice), one reopen.
    assert (totals["reopens"], totals["resolutions"]) == (1, 7)


def test_satisfaction_average_response_rate_and_distribution(people, scenario):
    totals = figures(people.acme).totals
    # Closed in the period: I1 (5), I2 (4), I3 (2), I4 (not rated), I6 (3).
    assert (totals["closed"], totals["rated"], totals["rating_sum"]) == (5, 4, 14)
    assert [totals[f"rating_{k}"] for k in range(1, 6)] == [0, 1, 1, 1, 1]


def test_backlog_by_priority_and_state_is_live(people, scenario):
    data = figures(people.acme)
    medium, high, low = (level(people, s).pk for s in ("medium", "high", "low"))
    assert data.backlog == {
        (high, "escalated"): 1,  # O1
        (medium, "reported"): 1,  # O4, no category so no routing
        (medium, "escalated"): 1,  # O8
        (medium, "diagnosing"): 4,  # O2, O2b, O5, O6
        (low, "on_hold"): 1,  # O3
    }
    assert data.open_now == 8


def test_ageing_buckets_of_open_incidents(people, scenario):
    data = figures(people.acme)
    # Viewed Friday 12:00: O1 is 4 h old; O2b exactly one day, O2 two days; O3 six days,
    # O5 and O6 three days and a bit; O4 eleven days, O8 sixteen.
    assert data.ageing == {"under_1d": 1, "d1_3": 2, "d3_7": 3, "over_7d": 2}


def test_workload_counts_active_agents_only(people, scenario):
    data = figures(people.acme)
    loads = [(load.user.email, load.open, load.resolved) for load in data.workload]
    # dan (deactivated) and ivan (an inactive user) hold O5 and O6 but are not counted;
    # max and ada hold nothing, so they do not appear.
    assert loads == [("alice@acme.test", 2, 4), ("bob@acme.test", 1, 2)]


def test_top_categories_by_incidents_created(people, scenario):
    data = figures(people.acme)
    assert data.top_categories == [(people.network.pk, 6), (scenario.email.pk, 1), (None, 1)]


def test_filters_narrow_every_figure(people, scenario):
    data = figures(people.acme, group=str(scenario.messaging.pk))
    assert (data.totals["created"], data.totals["resolved"]) == (1, 1)  # I5
    assert data.resolve["wall"].median == pytest.approx(22 * HOUR)
    assert data.open_now == 0
    assert [(load.user.email, load.open, load.resolved) for load in data.workload] == [
        ("bob@acme.test", 0, 1)
    ]
    data = figures(people.acme, priority=str(level(people, "high").pk))
    assert (data.totals["response_met"], data.totals["response_breached"]) == (1, 1)
    assert data.open_now == 1  # O1
    data = figures(people.acme, category="none")
    assert (data.totals["created"], data.open_now) == (1, 1)  # O4


def test_another_tenants_incidents_never_count(people, scenario):
    acme = figures(people.acme)
    globex = figures(people.globex)
    # globex resolved five incidents on Monday, all rated 1, and has one open.
    assert (globex.totals["created"], globex.totals["resolved"], globex.open_now) == (5, 5, 1)
    assert globex.totals["rating_1"] == 5
    assert acme.totals["rating_1"] == 0
    assert acme.totals["created"] == 8
    assert acme.resolve["wall"].n == 6
    assert acme.open_now == 8
