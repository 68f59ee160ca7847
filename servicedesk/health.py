"""/healthz says the process is up; /readyz that the database and the broker answer."""

from django.db import connection
from django.http import HttpRequest, JsonResponse

from escalation.models import AuditStatus
from servicedesk.celery import app as celery_app


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


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "unavailable",
            "checks": checks,
            "flags": {"sla_audit": _sla_audit()},
        },
        status=200 if ready else 503,
    )
