"""Keep the row of a signed-in session up to date (last active, address, browser), at most once
a minute: the time of the last update rides in the session itself, so a request within the
minute reads nothing more and writes nothing (the queue page polls; it must not write)."""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse

from tenancy.account.services import SEEN_EVERY_SECONDS, SEEN_KEY, session_seen


class SessionSeenMiddleware:
    """After AuthenticationMiddleware; runs after the view, so a log-in's new session and a
    log-out's ended one are already in place."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is None or user is None or not user.is_authenticated:
            return response
        seen = session.get(SEEN_KEY)
        if isinstance(seen, int) and time.time() - seen < SEEN_EVERY_SECONDS:
            return response
        session_seen(user=user, request=request)  # type: ignore[arg-type]
        return response
