"""Errors as application/problem+json (RFC 9457): type, title, status, detail, and `errors`
(a field map) for validation problems. No input may produce a 500."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tenancy.errors import Refusal
from tenancy.models import IdempotencyRecord

PROBLEM_BASE = "https://servicedesk.invalid/problems/"
TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    503: "Busy",
}


class ProblemResponse(Response):
    def __init__(self, status_code: int, detail: str, *, type_: str = "", **extra) -> None:
        body = {
            "type": PROBLEM_BASE
            + (type_ or TITLES.get(status_code, "error").lower().replace(" ", "-")),
            "title": TITLES.get(status_code, "Error"),
            "status": status_code,
            "detail": detail,
            **extra,
        }
        super().__init__(body, status=status_code, content_type="application/problem+json")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since the version named in If-Match."


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Unprocessable request."


def _field_map(data) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {
            field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in data.items()
        }
    return {"non_field_errors": [str(m) for m in (data if isinstance(data, list) else [data])]}


def _refusal_problem(exc: Refusal, context) -> ProblemResponse:
    """A service's refusal, as the refusal itself says: status, type, extra members, headers."""
    status_code = exc.problem_status(context.get("request"))
    problem = ProblemResponse(
        status_code, exc.message, type_=exc.problem_type, **exc.problem_extra()
    )
    for header, value in exc.problem_headers().items():
        problem[header] = value
    return problem


class Replay(exceptions.APIException):
    """Carries the stored first answer of an Idempotency-Key back out through the handler."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__()
        self.record = record


def _replay(exc) -> Response:
    record = exc.record
    response = Response(record.response_body, status=record.response_status)
    if record.response_status >= 400:
        response.content_type = "application/problem+json"
    for header, value in record.response_headers.items():
        response[header] = value
    response["Idempotent-Replayed"] = "true"
    return response


def problem_exception_handler(exc, context):
    if isinstance(exc, Replay):
        return _replay(exc)
    if isinstance(exc, Refusal):
        return _refusal_problem(exc, context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        # Not an API error (a database or broker outage among them): DRF re-raises it, and
        # the site's middleware answers (servicedesk/outage.py: 503 with Retry-After).
        return None
    code = response.status_code
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_map(exc.detail)
        first = next(iter(errors.values()), ["Invalid input."])[0]
        problem = ProblemResponse(code, first, type_="validation", errors=errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        if isinstance(detail, dict | list):
            problem = ProblemResponse(code, "Invalid request.", errors=_field_map(detail))
        else:
            problem = ProblemResponse(code, str(detail))
    for header, value in response.items():
        if header.lower() in ("retry-after", "www-authenticate", "allow"):
            problem[header] = value
    return problem
