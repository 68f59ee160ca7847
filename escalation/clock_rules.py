"""The rule of one SLA clock, written once: what each move of an incident does to the clock,
how its working time counts, which thresholds it has passed and when it is breached.

Pure: instants, the clock's calendar (a CalendarSpec) and its policy's numbers, no database.
Three callers apply it: the live hooks (escalation/services/clocks.py) to a clock row as each
transition happens, the sweep (escalation/services/sweep.py) to the instants a running clock
stored, and the importer (imports/services/clocks.py) to an imported incident's whole history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from escalation.calendars import (
    ZERO,
    CalendarSpec,
    add_business_time,
    business_time_between,
    instant_reaching,
)
from escalation.models import ClockState, Metric
from incidents.models.incident import FINAL_STATES, OPEN_STATES, IncidentState

if TYPE_CHECKING:
    from escalation.models import SlaClock

BREACH = 100  # the threshold of the target itself
RESOLVED = "resolved"  # the pause reason of a resolution clock while its incident is resolved
CANCELLED = "cancelled"  # the pause reason of an imported cancellation its source took back
CLOSED = "closed"  # the pause reason of an imported close its source took back (a reopen)

# What a move does to a clock, in order. A step that does not fit the clock as it stands is
# nothing (resuming a clock that runs, stopping one that has stopped).
REOPEN = "reopen"  # count again after a close or a cancellation (only an imported source can)
STOP = "stop"  # detail: the state that stopped it (cancelled: no outcome)
RESUME = "resume"
PAUSE = "pause"  # detail: the reason (a hold kind, or resolved)

Step = tuple[str, str]
Stretch = tuple[datetime, datetime]
OpenStretch = tuple[datetime, datetime | None]  # a last stretch with no end: the clock runs on


@dataclass(frozen=True)
class Move:
    """One state change of an incident, as its clocks see it."""

    at: datetime
    target: str  # the incident's state after the move
    hold_reason: str = ""
    # The incident has been acknowledged (work started). Live: accept or a first public agent
    # reply; imported: the first move to diagnosing.
    acknowledged: bool = False


def split_due(checkpoints: list, now: datetime) -> tuple[list, list]:
    """(fired, remaining) checkpoints at `now`: a checkpoint at `now` itself has fired. The
    sweep's SQL batch says the same in SQL (escalation/services/sweep.py)."""
    fired = [cp for cp in checkpoints if datetime.fromisoformat(cp[1]) <= now]
    return fired, checkpoints[len(fired) :]


@dataclass(frozen=True)
class ClockRule:
    """One clock's metric, its policy's numbers and its calendar, and the rules over them."""

    metric: str
    target_seconds: int
    warn_percents: tuple[int, ...]
    pause_on: frozenset[str]
    spec: CalendarSpec

    @classmethod
    def of(cls, clock: SlaClock, spec: CalendarSpec) -> ClockRule:
        return cls(
            metric=clock.metric,
            target_seconds=clock.target_seconds,
            warn_percents=tuple(int(p) for p in clock.warn_percents),
            pause_on=frozenset(clock.pause_on),
            spec=spec,
        )

    # --- moves ----------------------------------------------------------------------------

    def steps(self, move: Move) -> list[Step]:
        """What a move does to this clock: close and cancel stop it; acknowledgement and
        resolution stop the response clock; a hold of a kind the policy names pauses it, and so
        does resolving the resolution clock; leaving a hold or a resolution resumes it."""
        steps: list[Step] = [(REOPEN, "")] if move.target in OPEN_STATES else []
        if move.target in FINAL_STATES or (self.metric == Metric.RESPONSE and _answers(move)):
            return [*steps, (STOP, move.target)]
        # Whatever paused the clock ends first: a hold or a resolution ends, or a hold changes
        # kind (an imported source can), and the new state may pause it again.
        steps.append((RESUME, ""))
        if move.target == IncidentState.ON_HOLD and move.hold_reason in self.pause_on:
            steps.append((PAUSE, move.hold_reason))
        elif move.target == IncidentState.RESOLVED:
            steps.append((PAUSE, RESOLVED))
        return steps

    # --- working time ---------------------------------------------------------------------

    @property
    def target(self) -> timedelta:
        return timedelta(seconds=self.target_seconds)

    def counted(self, stretches: Sequence[Stretch]) -> timedelta:
        """The working time of the calendar within the stretches the clock ran."""
        return sum((business_time_between(self.spec, a, b) for a, b in stretches), ZERO)

    def counted_at(
        self, spent: timedelta, running_since: datetime | None, at: datetime
    ) -> timedelta:
        """What a clock that counted `spent` before `running_since` has counted at `at` (a clock
        that is not running has no running_since and counts nothing more)."""
        if running_since is None:
            return spent
        return spent + business_time_between(self.spec, running_since, at)

    # --- thresholds -----------------------------------------------------------------------

    def percents(self) -> list[int]:
        """The warnings (1-99) and the breach, ascending."""
        return sorted({p for p in self.warn_percents if 0 < p < BREACH} | {BREACH})

    def amount(self, percent: int) -> timedelta:
        # Integer microseconds: exact, so a threshold lands on the same instant in every caller.
        return timedelta(microseconds=self.target_seconds * 1_000_000 * percent // 100)

    def checkpoints_ahead(self, spent: timedelta, since: datetime) -> list[list]:
        """[[percent, ISO instant], ...] of the thresholds beyond `spent`, for a clock running
        from `since`; the last is the breach (the due time) unless the target is behind."""
        return [
            [percent, add_business_time(self.spec, since, self.amount(percent) - spent).isoformat()]
            for percent in self.percents()
            if self.amount(percent) > spent
        ]

    def deadline(self, spent: timedelta, since: datetime) -> datetime:
        """When a clock that counted `spent` before `since`, running from then on, is due."""
        return add_business_time(self.spec, since, self.target - spent)

    def reached(
        self, stretches: Sequence[OpenStretch], spent: timedelta
    ) -> dict[int, datetime | None]:
        """The thresholds the clock has passed (it counted `spent` over `stretches`), each with
        the instant it was reached (None when the stretches do not hold it)."""
        return {
            percent: instant_reaching(self.spec, list(stretches), self.amount(percent))
            for percent in self.percents()
            if self.amount(percent) <= spent
        }

    # --- outcome --------------------------------------------------------------------------

    def breached(self, spent: timedelta) -> bool:
        return spent >= self.target

    def breach_instant(self, stretches: Sequence[OpenStretch], spent: timedelta) -> datetime | None:
        """When the clock passed its target over these stretches; None while it has not."""
        if not self.breached(spent):
            return None
        return instant_reaching(self.spec, list(stretches), self.target)

    def ended_state(self, spent: timedelta, *, cancelled: bool) -> str:
        """The state of a clock that stopped having counted `spent`: a cancellation has no
        outcome, otherwise met in time or breached."""
        if cancelled:
            return ClockState.STOPPED
        return ClockState.BREACHED if self.breached(spent) else ClockState.MET


def _answers(move: Move) -> bool:
    # The response clock ends when the incident is acknowledged in diagnosis, or resolved.
    if move.target == IncidentState.RESOLVED:
        return True
    return move.target == IncidentState.DIAGNOSING and move.acknowledged


def set_aside(clock: SlaClock, resolved_at: datetime | None) -> None:
    """A breached resolution clock counts against its incident only while the incident is open
    (the invariant of LIVE_CLOCK_CONDITION, which "Breaching soon" relies on to skip the
    incident's state). Resolving sets it aside: stopped at `resolved_at`, still breached. A
    reopen (`resolved_at` None) makes it count again. A running clock that resolving pauses needs
    nothing (a paused clock has no due time), nor does the response clock, which resolving stops
    for good; close and cancel keep the instant (a stop keeps a stopped_at)."""
    if clock.metric == Metric.RESOLUTION and clock.state == ClockState.BREACHED:
        clock.stopped_at = resolved_at
