"""Is each streaming replica usable, and how far behind is it (tenancy/replicas.py routes by it;
/readyz and /metrics show it).

Lag is 0 while the replica has replayed everything it received, else the time since the last
transaction it replayed: a quiet primary sends nothing, so "time since the last replayed commit"
alone would call an idle, fully caught-up replica late. A server not in recovery (a promoted
standby) is not behind anything. Each process keeps the answer briefly, so a busy page does not
ask the replica before every request; a replica that did not answer is left alone a little
longer before it is asked again.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

log = logging.getLogger("desk.replicas")

CHECK_SECONDS = 1.5  # a replica's answer is reused this long
DOWN_SECONDS = 5.0  # one that did not answer is asked again after this long

LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0 "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


@dataclass(frozen=True)
class Status:
    alias: str
    checked: float  # time.monotonic() of the answer
    lag: float | None = None  # seconds behind; None: it did not answer
    error: str = ""

    @property
    def usable(self) -> bool:
        return self.lag is not None and self.lag <= settings.REPLICA_MAX_LAG_SECONDS

    @property
    def text(self) -> str:
        """What /readyz shows: "ok: 0.2 s behind", "lagging: ...", "down: ..."."""
        if self.lag is None:
            return f"down: {self.error}"
        if self.usable:
            return f"ok: {self.lag:.1f} s behind"
        bound = settings.REPLICA_MAX_LAG_SECONDS
        return f"lagging: {self.lag:.1f} s behind (more than {bound} s: not read)"

    def fresh(self, now: float) -> bool:
        return now - self.checked < (CHECK_SECONDS if self.lag is not None else DOWN_SECONDS)


# Per process; threads may race to refresh an entry, and either answer is as good.
_known: dict[str, Status] = {}


def aliases() -> list[str]:
    return list(getattr(settings, "REPLICA_ALIASES", []))


def probe(alias: str) -> Status:
    """Ask the replica now (bounded by DATABASE_CONNECT_TIMEOUT when it does not answer)."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            row = cursor.fetchone()
        status = Status(alias, time.monotonic(), lag=max(0.0, float(row[0])))
    except Exception as exc:  # any failure means "not now"; the next probe tries afresh
        with contextlib.suppress(Exception):
            connection.close()
        status = Status(alias, time.monotonic(), error=exc.__class__.__name__)
        log.warning("replica %s did not answer (%s): reads go to the primary", alias, exc)
    _known[alias] = status
    return status


def status(alias: str) -> Status:
    known = _known.get(alias)
    if known is not None and known.fresh(time.monotonic()):
        return known
    return probe(alias)


def forget(alias: str) -> None:
    """A statement failed on it mid-request: ask it again before the next read goes there."""
    _known.pop(alias, None)


def choose() -> str | None:
    """A usable replica, spreading reads among several; None: read the primary."""
    usable = [alias for alias in aliases() if status(alias).usable]
    return random.choice(usable) if usable else None


def report() -> dict[str, str]:
    """Every replica asked now, for /readyz."""
    return {alias: probe(alias).text for alias in aliases()}


def lags() -> dict[str, float | None]:
    """Every replica's lag as last known (asked when stale), for /metrics; None: down."""
    return {alias: status(alias).lag for alias in aliases()}
