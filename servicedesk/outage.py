"""A dependency that falls over during a request (PostgreSQL down or restarting, the broker
gone) is answered 503 with Retry-After, never 500: the client waits and retries, and with an
Idempotency-Key the retry is safe (tenancy/api/idempotency.py). problem+json under /api/, a
plain page elsewhere, rendered without the database (no context processors, no session).

One place decides: `OutageMiddleware.process_exception` for what a view raises (DRF's handler
leaves these exceptions alone, tenancy/api/errors.py), and `servicedesk.errors.server_failure`
for what a middleware raises before or after the view (the session, the tenant lookup).
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from django import db
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

log = logging.getLogger("servicedesk.outage")

# A restart of PostgreSQL or Redis takes seconds; sooner would only add load while it starts.
RETRY_AFTER_SECONDS = 5

_BROKER_ERRORS = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def unavailable_dependency(exc: BaseException | None) -> str | None:
    """'database' or 'broker' when `exc` says that dependency cannot be reached right now.

    Every OperationalError counts, not only a refused connection: a server shutting down or
    starting up, too many clients, a deadlock or a lock timeout all pass, and the request
    deserves a retry rather than "something went wrong"."""
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        return "database"
    if isinstance(exc, _BROKER_ERRORS):
        return "broker"
    return None


def outage_response(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    dependency = unavailable_dependency(exc)
    if dependency is None:
        return None
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    log.warning(
        "%s unavailable: %s %s answered 503 (%s: %s)",
        dependency,
        request.method,
        request.path,
        exc.__class__.__name__,
        first_line,
    )
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "type": "https://servicedesk.invalid/problems/unavailable",
                "title": "Service unavailable",
                "status": 503,
                "detail": (
                    f"The desk's {dependency} is not answering for a moment. Retry after "
                    "Retry-After seconds; with the same Idempotency-Key a retry never does "
                    "the work twice."
                ),
                "dependency": dependency,
            },
            status=503,
            content_type="application/problem+json",
        )
    else:
        # No request: no context processors (user, tenant, bell), so nothing asks the database.
        page = loader.get_template("503.html").render({"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    # Logged above in one line: Django's own log would add "Service Unavailable" per request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return outage_response(request, exception)
