"""The tenants the fault tests drive on the throwaway cluster, and what each test asserts at the
end: every delivery taken in once per delivery id, none missing (tests/faults/README.md)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from psycopg2.extensions import cursor as Cursor

from tests.escalation.smtp_sink import SmtpSink
from tests.faults.harness import CeleryProcesses, Desk, PgCluster, wait_for
from tests.faults.sink import WebhookSink


@dataclass
class FaultTenant:
    """A tenant of the throwaway cluster whose one webhook endpoint points at the sink."""

    slug: str
    secret: str
    desk: Desk
    pg: PgCluster
    sink: WebhookSink

    def report(self, count: int, env: dict | None = None, threads: int = 1) -> list[int]:
        """Report incidents in a separate process: each writes one webhook row (created).
        `threads` > 1 reports them side by side, a burst."""
        args = ("report", "--slug", self.slug, "--count", str(count), "--threads", str(threads))
        return self.desk.driver(*args, env=env)["numbers"]

    def webhook_rows(self) -> dict[str, str]:
        """delivery id -> status of every webhook notification of the tenant."""
        rows = self.pg.query(
            "SELECT n.delivery_id::text, n.status FROM escalation_notification n "
            "JOIN tenancy_tenant t ON t.id = n.tenant_id "
            "WHERE t.slug = %s AND n.channel = 'webhook'",
            (self.slug,),
        )
        return dict(rows)

    def wait_all_sent(self, expected: int, timeout: float = 60) -> dict[str, str]:
        def done() -> bool:
            rows = self.webhook_rows()
            return len(rows) == expected and set(rows.values()) == {"sent"}

        try:
            wait_for(done, timeout, f"{expected} webhook rows of {self.slug} to be sent")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; rows: {self.webhook_rows()}") from None
        return self.webhook_rows()

    def assert_each_delivered_once(
        self, expected: int, *, repeats_allowed: frozenset[str] = frozenset(), timeout: float = 60
    ) -> None:
        """Every row sent, and the sink took in each delivery id exactly once, none missing and
        none foreign; a repeat only for the ids in `repeats_allowed` (cut off in mid-send)."""
        rows = self.wait_all_sent(expected, timeout)
        wait_for(lambda: set(self.sink.ids()) >= set(rows), 10, "the sink to count every id")
        counts = self.sink.ids()
        assert set(counts) == set(rows), "missing or foreign delivery ids at the sink"
        repeated = {delivery_id for delivery_id, n in counts.items() if n > 1}
        assert repeated <= repeats_allowed, f"delivered more than once: {repeated}"

    def report_and_kill_mid_post(self, celery_procs: CeleryProcesses, count: int) -> frozenset:
        """Beat and worker w1 up, `count` incidents reported, w1 killed -9 while the sink holds
        a POST open, and w2 started. Returns the delivery ids that were cut off."""
        _, worker = celery_procs.start("w1")
        self.sink.delay = 3.0  # slow to answer, so the kill lands while a POST is open
        self.report(count)
        wait_for(self.sink.in_flight_ids, 30, "a delivery in flight")
        cut_off = frozenset(self.sink.in_flight_ids())
        worker.kill()
        self.sink.delay = 0
        celery_procs.worker("w2")
        return cut_off

    def all_signed(self) -> bool:
        """Every request at the sink carries a valid signature of its body."""
        from escalation.channels.webhook import sign

        for delivery in self.sink.deliveries:
            t = delivery.signature.split(",")[0].removeprefix("t=")
            if sign(self.secret, int(t), delivery.body) != delivery.signature:
                return False
        return True


# --- SLA alerts -------------------------------------------------------------------------------

METRICS = ("response", "resolution")
BREACH = 100
# "[INC-000001] <tenant>: not acknowledged: escalation level 2" (the thread's token leads).
LEVEL_SUBJECT = re.compile(r"^\[([^\]]+)\] .*: not acknowledged: escalation level (\d+)$")


@dataclass(frozen=True)
class SlaPlan:
    """Seconds from report: the two clocks' targets (around the clock), their warnings in
    percent, and the waits between escalation levels (each level notifies the managers)."""

    response: int
    resolution: int
    warn: tuple[int, ...] = (50,)
    levels: tuple[int, ...] = (2, 2)

    @property
    def last_due(self) -> int:
        """Seconds from report until the last alert of an incident is due."""
        return max(self.response, self.resolution, sum(self.levels))


@dataclass
class SlaTenant(FaultTenant):
    """A tenant whose endpoint takes only sla.warning and sla.breached, whose mail goes to a
    local SMTP sink, and whose incidents are escalated to a group, so each incident's clocks
    warn and breach at the webhook sink and its climb reaches the admin by mail."""

    smtp: SmtpSink
    plan: SlaPlan = field(default_factory=lambda: SlaPlan(response=2, resolution=5))
    references: list[str] = field(default_factory=list)

    def configure(self, plan: SlaPlan) -> None:
        self.plan = plan
        self.desk.driver(
            *("sla", "--slug", self.slug),
            *("--response", str(plan.response), "--resolution", str(plan.resolution)),
            *("--warn", ",".join(map(str, plan.warn))),
            *("--levels", ",".join(map(str, plan.levels))),
        )

    def report(self, count: int, env: dict | None = None, threads: int = 1) -> list[int]:
        args = ("report", "--slug", self.slug, "--count", str(count), "--category", "outage")
        made = self.desk.driver(*args, "--threads", str(threads), env=env)
        self.references += made["references"]
        return made["numbers"]

    # --- what must arrive ---------------------------------------------------------------------
    def expected_alerts(self) -> set[tuple[str, str, int]]:
        """(incident, metric, threshold) of every warning and breach of the reported incidents."""
        thresholds = (*self.plan.warn, BREACH)
        return {(r, m, t) for r in self.references for m in METRICS for t in thresholds}

    def expected_levels(self) -> set[tuple[str, int]]:
        levels = range(1, len(self.plan.levels) + 1)
        return {(reference, level) for reference in self.references for level in levels}

    # --- what the database holds --------------------------------------------------------------
    def _alert_rows(self) -> list[tuple]:
        return self.pg.query(
            "SELECT a.kind, a.clock_id, a.threshold, a.incident_id, a.level, a.repeat, "
            "a.notified_at IS NOT NULL FROM escalation_slaalert a "
            "JOIN tenancy_tenant t ON t.id = a.tenant_id "
            "WHERE t.slug = %s AND a.kind <> 'assigned'",
            (self.slug,),
        )

    def alert_keys(self) -> Counter[tuple]:
        """Rows per natural key: (clock, threshold) for warnings and breaches, (incident, level,
        repeat) for escalation steps."""
        return Counter(
            (clock, threshold) if kind != "escalation" else (incident, level, repeat)
            for kind, clock, threshold, incident, level, repeat, _ in self._alert_rows()
        )

    def alert_count(self) -> int:
        return len(self._alert_rows())

    def outbox(self) -> Counter[tuple[str, str]]:
        """(channel, status) -> rows of the tenant's notifications."""
        rows = self.pg.query(
            "SELECT n.channel, n.status, count(*) FROM escalation_notification n "
            "JOIN tenancy_tenant t ON t.id = n.tenant_id WHERE t.slug = %s "
            "GROUP BY n.channel, n.status",
            (self.slug,),
        )
        return Counter({(channel, status): n for channel, status, n in rows})

    def due_between(self, start: datetime, end: datetime) -> int:
        """Alerts whose threshold or level was reached within [start, end]."""
        rows = self.pg.query(
            "SELECT count(*) FROM escalation_slaalert a JOIN tenancy_tenant t "
            "ON t.id = a.tenant_id WHERE t.slug = %s AND a.kind <> 'assigned' "
            "AND a.due_at BETWEEN %s AND %s",
            (self.slug, start, end),
        )
        return rows[0][0]

    def came_due_unswept(self, start: datetime, end: datetime, runs: bool = True) -> int:
        """Running clocks (and, with `runs`, climbing runs) whose next check fell within
        [start, end] and that no sweep has taken since: what comes due while the sweep cannot
        run. Only a clock's threshold reaches the webhook sink; a run's level goes by mail."""
        rows = self.pg.query(
            "SELECT (SELECT count(*) FROM escalation_slaclock c WHERE c.tenant_id = t.id "
            "AND c.state = 'running' AND c.next_check_at BETWEEN %s AND %s) + (SELECT count(*) "
            "FROM escalation_escalationrun r WHERE %s AND r.tenant_id = t.id "
            "AND r.state = 'climbing' AND r.next_check_at BETWEEN %s AND %s) "
            "FROM tenancy_tenant t WHERE t.slug = %s",
            (start, end, runs, start, end, self.slug),
        )
        return rows[0][0]

    def overdue_unswept(self) -> int:
        """Running clocks and climbing runs whose next check has passed: due, not yet swept."""
        rows = self.pg.query(
            "SELECT (SELECT count(*) FROM escalation_slaclock c WHERE c.tenant_id = t.id "
            "AND c.state = 'running' AND c.next_check_at < now()) + (SELECT count(*) "
            "FROM escalation_escalationrun r WHERE r.tenant_id = t.id "
            "AND r.state = 'climbing' AND r.next_check_at < now()) "
            "FROM tenancy_tenant t WHERE t.slug = %s",
            (self.slug,),
        )
        return rows[0][0]

    def hold_clock(self, cursor: Cursor, position: int) -> int:
        """In the test's open transaction, write the first alert the sweep will write for the
        tenant's running clock at `position` (in the sweep's order). The sweep's INSERT of the
        same key then waits for this transaction, with its whole batch of clocks locked: a
        sweep held open in mid-batch by a real lock. Returns the clock's id."""
        cursor.execute(
            "SELECT c.id, c.tenant_id, c.incident_id, (c.checkpoints->0->>0)::int "
            "FROM escalation_slaclock c JOIN tenancy_tenant t ON t.id = c.tenant_id "
            "WHERE t.slug = %s AND c.state = 'running' "
            "ORDER BY c.next_check_at, c.id OFFSET %s LIMIT 1",
            (self.slug, position),
        )
        clock_id, tenant_id, incident_id, threshold = cursor.fetchone()
        cursor.execute(
            "INSERT INTO escalation_slaalert (tenant_id, incident_id, kind, clock_id, threshold, "
            "due_at, created_at, notify, recipients, acknowledged_via) "
            "VALUES (%s, %s, 'warning', %s, %s, now(), now(), '', '[]', '')",
            (tenant_id, incident_id, clock_id, threshold),
        )
        return clock_id

    # --- the end of every SLA fault test ------------------------------------------------------
    def wait_every_alert_notified(self, timeout: float = 60) -> None:
        sla, levels = len(self.expected_alerts()), len(self.expected_levels())

        def done() -> bool:
            rows = self._alert_rows()
            kinds = Counter(kind for kind, *_ in rows)
            notified = all(row[-1] for row in rows)
            outbox = self.outbox()
            all_sent = {status for _, status in outbox} == {"sent"}
            webhooks = outbox[("webhook", "sent")] == sla
            complete = kinds["warning"] + kinds["breach"] == sla and kinds["escalation"] == levels
            return complete and notified and all_sent and webhooks

        try:
            wait_for(done, timeout, f"{sla} SLA and {levels} escalation alerts delivered")
        except AssertionError as exc:
            kinds = Counter(kind for kind, *_ in self._alert_rows())
            detail = f"alerts {dict(kinds)}; outbox {dict(self.outbox())}"
            raise AssertionError(f"{exc}; {detail}") from None

    def assert_every_alert_once(
        self, *, repeats_allowed: frozenset[str] = frozenset(), timeout: float = 60
    ) -> None:
        """Each warning and breach at the webhook sink and each escalation level at the mail
        sink under exactly one delivery id, none missing, each id taken in once (a repeat only
        for ids cut off in mid-send); and one alert row per natural key."""
        self.wait_every_alert_notified(timeout)
        self.assert_each_delivered_once(
            len(self.expected_alerts()), repeats_allowed=repeats_allowed, timeout=10
        )
        alerts = self._webhook_alerts()
        assert set(alerts.values()) == self.expected_alerts(), "missing or foreign SLA alerts"
        doubled = [key for key, n in Counter(alerts.values()).items() if n > 1]
        assert not doubled, f"alerts delivered under two delivery ids: {doubled}"
        self._assert_mail_once(repeats_allowed)
        keys = self.alert_keys()
        assert all(n == 1 for n in keys.values()), f"alert rows written twice: {keys}"
        assert len(keys) == len(self.expected_alerts()) + len(self.expected_levels())

    def _webhook_alerts(self) -> dict[str, tuple[str, str, int]]:
        """delivery id -> (incident, metric, threshold), read from the bodies the sink took in."""
        found = {}
        for delivery in self.sink.deliveries:
            if delivery.accepted:
                data = delivery.json()["data"]
                sla = data["sla"]
                found[delivery.delivery_id] = (
                    data["incident"]["number"],
                    sla["metric"],
                    sla["threshold"],
                )
        return found

    def mail(self) -> list:
        """What the SMTP sink took in for this tenant's people. (The cluster outlives a test:
        this test's workers also send the rows earlier tests left pending, as they should.)"""
        return [m for m in self.smtp.accepted if str(m["To"]).endswith(f"@{self.slug}.test")]

    def _assert_mail_once(self, repeats_allowed: frozenset[str]) -> None:
        rows = self.pg.query(
            "SELECT n.delivery_id::text FROM escalation_notification n "
            "JOIN tenancy_tenant t ON t.id = n.tenant_id "
            "WHERE t.slug = %s AND n.channel = 'email'",
            (self.slug,),
        )
        ids = Counter(_message_uuid(m) for m in self.mail())
        assert set(ids) == {row[0] for row in rows}, "missing or foreign mail at the SMTP sink"
        repeated = {i for i, n in ids.items() if n > 1}
        assert repeated <= repeats_allowed, f"mail delivered more than once: {repeated}"
        levels: dict[str, tuple[str, int]] = {}
        for message in self.mail():
            found = LEVEL_SUBJECT.search(str(message["Subject"]))
            if found:
                levels[_message_uuid(message)] = (found[1], int(found[2]))
        assert set(levels.values()) == self.expected_levels(), "missing escalation levels"
        doubled = [key for key, n in Counter(levels.values()).items() if n > 1]
        assert not doubled, f"escalation levels mailed under two ids: {doubled}"


def _message_uuid(message) -> str:
    """The delivery id in a Message-ID of the desk's: <uuid@host>."""
    return str(message["Message-ID"]).strip("<>").split("@")[0]
