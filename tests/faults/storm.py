"""How late a storm's SLA alerts were, read from the throwaway cluster: for every warning and
breach of a tenant, seconds from when it was due to when its alert row was written, notified
(its outbox rows written) and delivered (the last of its rows sent: webhook, email, in-app).
Used by test_storm_faults.py and bench/storm_bench.py."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Database(Protocol):
    """What lateness() reads through: tests.faults.harness.PgCluster, or the bench's."""

    def query(self, sql: str, params: tuple = ...) -> list[tuple]: ...


LEVEL = re.compile(r"(\d+)% of the")
ALERT_KINDS = ("sla_warning", "sla_breach", "sla.warning", "sla.breached")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Lateness:
    written: list[float]
    notified: list[float]
    delivered: list[float]
    undelivered: int  # alerts with a row not sent (yet)

    @staticmethod
    def summary(values: list[float]) -> tuple[float, float, float]:
        if not values:
            return (math.nan, math.nan, math.nan)
        return percentile(values, 50), percentile(values, 95), max(values)

    def lines(self) -> list[str]:
        out = []
        for name in ("written", "notified", "delivered"):
            p50, p95, top = self.summary(getattr(self, name))
            out.append(f"{name:<10} p50 {p50:7.1f} s   p95 {p95:7.1f} s   max {top:7.1f} s")
        return out


def _key_of_row(channel: str, subject: str, body: str) -> tuple[str, int] | None:
    """(metric, threshold) an outbox row of an SLA alert speaks of."""
    if channel == "webhook":
        sla = json.loads(body)["data"]["sla"]
        return sla["metric"], int(sla["threshold"])
    metric = "response" if "response target" in subject else "resolution"
    if "breached" in subject:
        return metric, 100
    found = LEVEL.search(subject)
    return (metric, int(found[1])) if found else None


def lateness(pg: Database, slugs: list[str], since: datetime | None = None) -> Lateness:
    """Per warning and breach of the tenants' incidents (escalation levels left out); with
    `since`, only alerts due and rows written from then on (one run of a bench that keeps its
    tenants)."""
    alerts = pg.query(
        "SELECT a.incident_id, c.metric, a.threshold, a.due_at, a.created_at, a.notified_at "
        "FROM escalation_slaalert a JOIN escalation_slaclock c ON c.id = a.clock_id "
        "JOIN tenancy_tenant t ON t.id = a.tenant_id WHERE t.slug = ANY(%s) "
        "AND (%s::timestamptz IS NULL OR a.due_at >= %s)",
        (slugs, since, since),
    )
    rows = pg.query(
        "SELECT n.incident_id, n.channel, n.subject, n.body, n.status, n.sent_at "
        "FROM escalation_notification n JOIN tenancy_tenant t ON t.id = n.tenant_id "
        "WHERE t.slug = ANY(%s) AND n.kind = ANY(%s) "
        "AND (%s::timestamptz IS NULL OR n.created_at >= %s)",
        (slugs, list(ALERT_KINDS), since, since),
    )
    sent: dict[tuple, list[datetime | None]] = defaultdict(list)
    for incident_id, channel, subject, body, status, sent_at in rows:
        key = _key_of_row(channel, subject, body)
        if key is not None:
            sent[(incident_id, *key)].append(sent_at if status == "sent" else None)
    written, notified, delivered, undelivered = [], [], [], 0
    for incident_id, metric, threshold, due_at, created_at, notified_at in alerts:
        written.append((created_at - due_at).total_seconds())
        if notified_at is not None:
            notified.append((notified_at - due_at).total_seconds())
        times = sent.get((incident_id, metric, threshold), [])
        if not times or None in times:
            undelivered += 1
        else:
            delivered.append((max(t for t in times if t) - due_at).total_seconds())
    return Lateness(written, notified, delivered, undelivered)
