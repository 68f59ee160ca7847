"""/metrics for Prometheus (docs/operations.md lists each metric and suggested alert rules).

Read at scrape time from the database and the broker, so every web process answers the same
whatever the worker processes are doing: queue depths, how late the sweep, the notifier and the
deliveries are, the outbox's backlog, the sweep's dead-man check, and task failures (counted in
Redis by servicedesk/task_stats.py). Served only with METRICS_TOKEN set, to requests that bear
it ("Authorization: Bearer <token>"): 404 without the setting, 401 without the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from escalation.selectors import operations
from escalation.services.queues import queue_depths
from servicedesk import task_stats
from tenancy import replica_health, rls


class DeskCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "servicedesk_queue_depth",
            "Messages waiting in a broker queue (timers, delivery, celery).",
            labels=["queue"],
        )
        for queue, waiting in queue_depths().items():
            if waiting is not None:
                depth.add_metric([queue], waiting)
        yield depth
        yield GaugeMetricFamily(
            "servicedesk_sla_sweep_lag_seconds",
            "Seconds since the oldest due SLA checkpoint or escalation level without its alert.",
            value=operations.sweep_lag(now),
        )
        yield GaugeMetricFamily(
            "servicedesk_sla_notify_lag_seconds",
            "Seconds since the oldest SLA alert not yet notified came due.",
            value=operations.notify_lag(now),
        )
        lag = GaugeMetricFamily(
            "servicedesk_delivery_lag_seconds",
            "Per channel, seconds since the oldest notification waiting for an attempt was due.",
            labels=["channel"],
        )
        waiting_lag = operations.delivery_lag(now)
        for channel in ("email", "inapp", "webhook"):
            lag.add_metric([channel], waiting_lag.get(channel, 0.0))
        yield lag
        backlog = GaugeMetricFamily(
            "servicedesk_outbox_backlog",
            "Notifications not yet sent or given up, by channel and status (pending, sending).",
            labels=["channel", "status"],
        )
        rows = operations.outbox_backlog()
        for channel in ("email", "inapp", "webhook"):
            for status in ("pending", "sending"):
                backlog.add_metric([channel, status], rows.get((channel, status), 0))
        yield backlog
        completed = operations.sweep_completed_at()
        yield GaugeMetricFamily(
            "servicedesk_sla_sweep_last_completed_timestamp_seconds",
            "When the SLA sweep last finished (Unix time; 0: never).",
            value=completed.timestamp() if completed else 0.0,
        )
        yield GaugeMetricFamily(
            "servicedesk_sla_sweep_stalled",
            "1 when the sweep has not finished for three intervals while clocks are due.",
            value=1.0 if operations.sweep_deadman(now) else 0.0,
        )
        counts = task_stats.failures()
        if counts is not None:
            failures = CounterMetricFamily(
                "servicedesk_task_failures",
                "Celery tasks that raised (after their retries), by task name.",
                labels=["task"],
            )
            for task, n in sorted(counts.items()):
                failures.add_metric([task], n)
            yield failures
        yield from _replica_lag()


def _replica_lag() -> Iterator[Metric]:
    lags = replica_health.lags()
    if not lags:
        return
    gauge = GaugeMetricFamily(
        "servicedesk_replica_lag_seconds",
        "Per streaming replica (DATABASE_REPLICA_URLS), seconds its replay is behind; -1: down.",
        labels=["replica"],
    )
    for alias, lag in lags.items():
        gauge.add_metric([alias], -1.0 if lag is None else lag)
    yield gauge


def _authorised(request: HttpRequest) -> bool:
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        raise Http404("metrics are off (METRICS_TOKEN is not set)")
    if not _authorised(request):
        response = HttpResponse("A metrics token is needed.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeskCollector())
    # Backlogs and lags of the whole deployment: every tenant's rows, counted, none shown.
    with rls.bypass("/metrics, the deployment's backlogs", routine=True):
        body = generate_latest(registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
