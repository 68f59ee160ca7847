"""The reads behind the dashboard: its figures (dashboard.py) over a period (period.py, with
scope.py saying what a period and its filters are), from bucket counts (histograms.py), exact
medians (quantiles.py) and business time (windows.py), with the SQL pieces the ORM lacks
(sql.py). Three of them also write what only they read and only the refresh asks for: the
running totals (histograms_write), the calendar windows (windows_ensure) and the warmed figures
(figures_warm).

Selectors import models and each other, never services or views: services and views import
them, and this package loads its modules eagerly without a cycle."""

from dashboards.selectors.dashboard import (
    AGE_BUCKETS,
    AgentLoad,
    DashboardData,
    TenantChoices,
    dashboard_data,
    tenant_choices,
)

__all__ = [
    "AGE_BUCKETS",
    "AgentLoad",
    "DashboardData",
    "TenantChoices",
    "dashboard_data",
    "tenant_choices",
]
