"""/healthz says the process is up; /readyz that the database and the broker answer, naming the
one that does not (`unavailable`), and how each streaming replica is (shown, never failing
readiness: the primary alone serves every read)."""

from django.db import connection
from django.http import HttpRequest, JsonResponse

from escalation.models import AuditStatus
from escalation.selectors.operations import sweep_deadman
from servicedesk.celery import app as celery_app
from tenancy import replica_health, rls


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # any failure means not ready; say which
        return f"error: {exc.__class__.__name__}"


def _broker_ok() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            # One quick retry, no back-off: a probe wants an answer within its own timeout.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _sla_audit() -> str:
    """The SLA auditor's flag. Shown, not failing readiness: a late sweep is the workers'
    trouble, and taking the web nodes out of the load balancer would not mend it."""
    try:
        status = AuditStatus.objects.filter(pk=1).first()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    if status is None:
        return "not run yet"
    return "ok" if status.ok else f"error: overdue without alert: {status.detail}"


def _sla_sweep() -> str:
    """The sweep's dead-man check (escalation/selectors/operations.py): "degraded" when no sweep
    has finished for three intervals while clocks are due. Like the audit, shown, not failing
    readiness; it also logs at ERROR."""
    try:
        stalled = sweep_deadman()
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return f"degraded: {stalled}" if stalled else "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    """Answers within a few seconds whatever is down: the database's connect_timeout
    (DATABASE_CONNECT_TIMEOUT) and the broker's 2 s bound each probe, and the SLA flag is not
    read from a database that just failed its probe."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    down = [name for name, value in checks.items() if value != "ok"]
    sla_audit = _sla_audit() if "database" not in down else "unknown: the database is down"
    # The sweep's dead-man check reads every tenant's clocks (tenancy/rls.py).
    with rls.bypass("/readyz, the SLA sweep's dead-man check", routine=True):
        sla_sweep = _sla_sweep() if "database" not in down else "unknown: the database is down"
    status = "unavailable" if down else "degraded" if sla_sweep.startswith("degraded") else "ok"
    body: dict[str, object] = {
        "status": status,
        "checks": checks,
        "unavailable": down,
        "flags": {"sla_audit": sla_audit, "sla_sweep": sla_sweep},
    }
    if replica_health.aliases():
        # "ok: 0.2 s behind", "lagging: ...", "down: OperationalError"; a replica down or
        # behind is skipped by reads, so the node stays in the load balancer.
        body["replicas"] = replica_health.report()
    return JsonResponse(body, status=503 if down else 200)
