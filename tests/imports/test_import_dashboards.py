"""The dashboards show the imported period: real time to resolve and SLA compliance, from the
imported timelines and the clocks computed from them (answers worked out by hand)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from dashboards.selectors import dashboard_data, tenant_choices
from dashboards.selectors.scope import Scope
from dashboards.services import rollups_refresh
from tenancy.models import Tenant
from tests.imports.conftest import write_csv
from tests.imports.test_import_sla import HIGH, MODERATE

HOUR = 3600


@pytest.fixture
def imported(db, tmp_path, import_file):
    import_file(write_csv(tmp_path / "h.csv", MODERATE + HIGH), "--create-tenant",
                "--adopt-source-matrix")  # fmt: skip
    tenant = Tenant.objects.get(slug="snow")
    rollups_refresh(tenant=tenant)
    scope = Scope(date(2016, 3, 1), date(2016, 3, 14), tz=ZoneInfo("UTC"))
    return dashboard_data(tenant=tenant, scope=scope, choices=tenant_choices(tenant))


def test_the_dashboard_counts_the_imported_period(imported):
    per_day = {day: (c["created"], c["resolved"]) for day, c in imported.per_day}
    assert per_day[date(2016, 3, 1)] == (1, 1)  # INC1 reported and resolved on Tuesday
    assert per_day[date(2016, 3, 4)] == (1, 0)  # INC2 reported on Friday
    assert per_day[date(2016, 3, 8)] == (0, 1)  # and resolved on Tuesday after
    assert imported.open_now == 0


def test_compliance_is_what_the_imported_timelines_earned(imported):
    # INC1 (moderate) met both targets; INC2 (high) missed both.
    assert imported.totals["response_met"] == 1 and imported.totals["response_breached"] == 1
    assert imported.totals["resolution_met"] == 1
    assert imported.totals["resolution_breached"] == 1


def test_time_to_resolve_is_real_in_wall_and_business_time(imported):
    # Wall: INC1 09:00-16:00 is 7 h; INC2 Friday 16:00 to Tuesday 12:00 is 92 h.
    assert imported.resolve["wall"].median == pytest.approx((7 + 92) / 2 * HOUR)
    # Business: INC1 counted 4 h (the caller's wait left out); INC2 reached its 8 h on
    # Monday 16:00 and ran 4 more (Monday 16-17, Tuesday 9-12): 12 h. Median 8 h.
    assert imported.resolve["business"].median == pytest.approx(8 * HOUR)
    assert imported.resolve["business"].p90 == pytest.approx((4 + 0.9 * 8) * HOUR)
