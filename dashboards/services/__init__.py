"""The writes of the dashboards' derived tables: the refresh and the rebuild (refresh.py), the
fact rows (facts.py) and the daily rollups (rollup.py). Tasks, the command and tests call the
two entry points named here; the modules inside import each other by their module path.

Services may import selectors (the running totals, the calendar windows, the figures the
refresh warms); selectors never import services, so this package can load everything eagerly
without a cycle."""

from dashboards.services.refresh import RefreshResult, rollups_rebuild, rollups_refresh

__all__ = ["RefreshResult", "rollups_rebuild", "rollups_refresh"]
