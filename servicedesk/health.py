"""/healthz says the process is up; /readyz that the database and the broker answer."""

from django.db import connection
from django.http import HttpRequest, JsonResponse

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


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
