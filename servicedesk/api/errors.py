"""Errors as application/problem+json (RFC 9457): type, title, status, detail, and `errors`
(a field map) for validation problems. No input may produce a 500."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from incidents.errors import (
    FileTooLarge,
    FileTypeRefused,
    IncidentError,
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    StaleIncident,
)
from tenancy.config_stamp import ConfigBusy

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


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since the version named in If-Match."


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "Unprocessable request."


# The services refuse attachments; the API says which way with the status HTTP has for it.
FILE_STATUS = {FileTooLarge: 413, FileTypeRefused: 415}


def _field_map(data) -> dict[str, list[str]]:
    if isinstance(data, dict):
        return {
            field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in data.items()
        }
    return {"non_field_errors": [str(m) for m in (data if isinstance(data, list) else [data])]}


def _domain_problem(exc: IncidentError, context) -> ProblemResponse:
    if isinstance(exc, InvalidTransition):
        return ProblemResponse(409, exc.message, type_="invalid-transition", allowed=exc.allowed)
    if isinstance(exc, StaleIncident):
        request = context.get("request")
        if request is not None and request.headers.get("If-Match"):
            return ProblemResponse(412, exc.message, type_="stale")
        return ProblemResponse(409, exc.message, type_="stale")
    if isinstance(exc, NotAllowed):
        return ProblemResponse(403, exc.message, type_="forbidden")
    if isinstance(exc, ConfigBusy):  # reports in flight held the change up; nothing was saved
        busy = ProblemResponse(503, exc.message, type_="busy")
        busy["Retry-After"] = "1"
        return busy
    if isinstance(exc, InvalidInput):
        errors = {exc.field or "non_field_errors": [exc.message]}
        code = FILE_STATUS.get(type(exc), 400)
        return ProblemResponse(code, exc.message, type_="validation", errors=errors)
    return ProblemResponse(400, exc.message)


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
    from servicedesk.api.idempotency import Replay

    if isinstance(exc, Replay):
        return _replay(exc)
    if isinstance(exc, IncidentError):
        return _domain_problem(exc, context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
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
