"""Business time across a weekend and a holiday, from the SLA clocks and the tenant's calendar.

acme's "Business hours" calendar (UTC, Monday-Friday 09:00-17:00) gets a holiday of its own on
Monday 7 December 2026. High priority: 30 minutes to respond, 8 working hours to resolve.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dashboards.models import IncidentFact
from dashboards.selectors import dashboard_data, tenant_choices
from dashboards.selectors.scope import Scope
from dashboards.services import rollups_refresh
from escalation.models import BusinessCalendar
from escalation.services.config import calendar_save
from incidents import services

pytestmark = pytest.mark.django_db
HOUR, MIN = 3600, 60


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def holiday(people):
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    calendar_save(
        actor=people.actor(people.ada),
        calendar=calendar,
        values={},
        days_off=[(date(2026, 12, 7), "Company day")],
    )
    return calendar


def _high(people, when: datetime, traveller):
    traveller.move_to(when)
    return services.incident_report(
        actor=people.actor(people.rita),
        title="Payroll down",
        impact="high",
        urgency="high",
        category=people.network,
    )


def _fact(incident) -> IncidentFact:
    return IncidentFact.objects.get(incident=incident)


def _resolve(people, incident, when: datetime, traveller) -> None:
    traveller.move_to(when)
    services.incident_resolve(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Fixed",
    )


@pytest.fixture
def weekend(people, holiday):
    """Two high-priority incidents reported on Friday 4 December, across the weekend and
    Monday's holiday; the tables refreshed on Wednesday 9 December at noon."""
    alice = people.actor(people.alice)
    with time_machine.travel(at(4, 16), tick=False) as traveller:
        # Reported Friday 16:00; accepted Tuesday 09:15, 45 working minutes after its
        # 30-minute response target ran out (Friday 16:30); resolved Tuesday 10:00, well
        # within its 8 working hours.
        late = _high(people, at(4, 16), traveller)
        traveller.move_to(at(8, 9, 15))
        late = services.incident_accept(incident=late, actor=alice)
        _resolve(people, late, at(8, 10), traveller)
        # Reported Friday 12:00 and accepted at once; its 8 working hours ran out on Tuesday
        # 12:00 (Friday 12-17, Tuesday 9-12); resolved Wednesday 10:00.
        slow = _high(people, at(4, 12), traveller)
        traveller.move_to(at(4, 12, 10))
        slow = services.incident_accept(incident=slow, actor=alice)
        _resolve(people, slow, at(9, 10), traveller)
        traveller.move_to(at(9, 12))
        rollups_refresh(tenant=people.acme)
        yield late, slow


def test_time_to_acknowledge_leaves_out_the_weekend_and_the_holiday(weekend):
    late = _fact(weekend[0])
    # Wall: Friday 16:00 to Tuesday 09:15 is 3 days 17 h 15 min; to 10:00, 3 days 18 h.
    assert late.ack_seconds == pytest.approx(3 * 24 * HOUR + 17 * HOUR + 15 * MIN)
    assert late.resolve_seconds == pytest.approx(3 * 24 * HOUR + 18 * HOUR)
    # Business: Friday 16:00-17:00 and Tuesday 09:00-09:15 (the breached clock's 30 minutes
    # plus 45 more); to resolve, Friday's hour and Tuesday 09:00-10:00.
    assert late.response_outcome == "breached"
    assert late.ack_business_seconds == pytest.approx(1 * HOUR + 15 * MIN)
    assert late.resolve_business_seconds == pytest.approx(2 * HOUR)


def test_a_resolution_breached_before_the_weekend_counts_on_after_it(weekend):
    slow = _fact(weekend[1])
    # Its 8 hours to the breach on Tuesday 12:00, then Tuesday 12-17 and Wednesday 9-10:
    # 14 working hours over 4 days 22 hours of wall time.
    assert slow.resolution_outcome == "breached"
    assert slow.resolution_ended_at == at(8, 12)
    assert slow.resolve_seconds == pytest.approx(4 * 24 * HOUR + 22 * HOUR)
    assert slow.resolve_business_seconds == pytest.approx(14 * HOUR)


def test_the_dashboard_shows_the_business_time_medians(people, weekend):
    with time_machine.travel(at(9, 12), tick=False):
        scope = Scope(date(2026, 12, 1), date(2026, 12, 9), tz=ZoneInfo("UTC"))
        data = dashboard_data(tenant=people.acme, scope=scope, choices=tenant_choices(people.acme))
    # Two resolutions: 2 and 14 working hours; median 8, p90 2 + 0.9 x 12.
    assert data.resolve["business"].median == pytest.approx(8 * HOUR)
    assert data.resolve["business"].p90 == pytest.approx(12.8 * HOUR)
    assert data.totals["resolution_breached"] == 1  # Tuesday 8th
