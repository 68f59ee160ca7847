"""The whole dashboard as one CSV file: a block per tile table and chart table."""

from __future__ import annotations

import csv
from typing import Protocol

from dashboards.views.charts import Dashboard
from dashboards.views.presentation import Table
from tenancy.csvcells import csv_safe as _safe  # the desk's one rule against CSV injection


def _header(table: Table) -> list[str]:
    return [f"{c.title} ({c.unit})" if c.unit else c.title for c in table.columns]


class Writable(Protocol):
    def write(self, content: str, /) -> object: ...


def write_csv(out: Writable, dashboard: Dashboard, *, tenant_name: str, filters: str) -> None:
    writer = csv.writer(out)
    scope = dashboard.data.scope
    writer.writerow(["Dashboard", _safe(tenant_name)])
    writer.writerow(["Period", scope.date_from.isoformat(), scope.date_to.isoformat()])
    writer.writerow(["Filters", _safe(filters)])
    refreshed = dashboard.data.refreshed_at
    writer.writerow(["Figures as of", refreshed.isoformat() if refreshed else "not computed yet"])
    for table in [dashboard.tiles_table, *(chart.table for chart in dashboard.charts)]:
        writer.writerow([])
        writer.writerow([_safe(table.caption)])
        writer.writerow(_header(table))
        for row in table.rows:
            writer.writerow([_safe(cell.csv_value) for cell in row])
