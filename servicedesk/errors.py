"""Site-wide 404 and 500: problem+json under /api/, the friendly page elsewhere; a 500 caused by
a database or broker outage becomes servicedesk/outage.py's 503."""

import sys

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found, server_error

from servicedesk.outage import outage_response


def _problem(status: int, title: str, detail: str) -> JsonResponse:
    body = {
        "type": f"https://servicedesk.invalid/problems/{title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return JsonResponse(body, status=status, content_type="application/problem+json")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _problem(404, "Not found", "There is nothing at this address.")
    return page_not_found(request, exception)


def server_failure(request: HttpRequest) -> HttpResponse:
    # A dependency that fell over in a middleware (the session, the tenant lookup) reaches here
    # rather than OutageMiddleware; Django calls this inside its `except`, so the error is known.
    outage = outage_response(request, sys.exc_info()[1])
    if outage is not None:
        return outage
    if request.path.startswith("/api/"):
        return _problem(500, "Server error", "Something went wrong on our side; it was logged.")
    return server_error(request)
