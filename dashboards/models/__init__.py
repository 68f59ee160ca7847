"""The dashboards' derived tables. They are one family (rebuilt together from the incidents by
one refresh), so they stay in one module, rollups.py; this package names them for Django and
for the migrations, which refer to `dashboards.models.NumberList`."""

from dashboards.models.rollups import (
    COUNTERS,
    ROLLUP_TRANSITIONS,
    CalendarWindow,
    CumulativeCounts,
    DailyRollup,
    FiguresCache,
    IncidentFact,
    NumberList,
    Outcome,
    RollupState,
)

__all__ = [
    "COUNTERS",
    "ROLLUP_TRANSITIONS",
    "CalendarWindow",
    "CumulativeCounts",
    "DailyRollup",
    "FiguresCache",
    "IncidentFact",
    "NumberList",
    "Outcome",
    "RollupState",
]
