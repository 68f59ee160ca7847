"""Failed log-ins, password-reset requests and bad API keys, throttled with django-axes.

Every attempt is recorded per name and per address (axes' AccessAttempt rows). A name is
locked after LOGIN_FAILURES_PER_ACCOUNT failures within LOGIN_LOCKOUT_MINUTES, an address after
LOGIN_FAILURES_PER_ADDRESS: an office behind one address must not lock itself out because a few
people mistype, so an address gets more tries than an account. A lock is a cool-off, never
permanent: it ends LOGIN_LOCKOUT_MINUTES after the failure that set it, and failures during a lock
are not recorded, so they do not extend it. A tenant admin can lift an account's lock from the
members page; a completed password reset lifts it too.

Names are namespaced so one kind of attempt never locks another: an account is its email
address, an API key is `api-key:<prefix>`, a reset request is `password-reset:<email>`, a wrong
second-factor code is `second-factor:<email>`. The
address count is shared by all of them: one address trying many keys is the same attacker as one
trying many passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db.models import Max, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tenancy.forms import LoginForm

API_KEY = "api-key:"
PASSWORD_RESET = "password-reset:"
# Wrong second-factor codes (tenancy/mfa/signin.py): their own count, so a person's password
# and their codes are paused separately, and an admin's lift clears both.
SECOND_FACTOR = "second-factor:"


def cool_off() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def username_of(request: HttpRequest, credentials: dict | None) -> str | None:
    """The name attempts are counted under: emails in lower case, so case does not dodge it."""
    name = (credentials or {}).get("username")
    if name is None:
        name = getattr(request, "POST", {}).get("username")
    return str(name or "").strip().lower() or None


def client_address(request: HttpRequest) -> str | None:
    """The address attempts are counted under. Behind our proxies (BEHIND_PROXY) it is the
    entry the outermost of them appended to X-Forwarded-For, counted from the right: entries
    further left come from the client and could name any address. Otherwise REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    if not settings.BEHIND_PROXY:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if len(forwarded) >= settings.PROXY_COUNT:
        return forwarded[-settings.PROXY_COUNT]
    return remote


def _limit_of(parameter: str | list[str]) -> int:
    if parameter == "ip_address":
        return settings.LOGIN_FAILURES_PER_ADDRESS
    return settings.LOGIN_FAILURES_PER_ACCOUNT


@dataclass(frozen=True)
class Standing:
    """Where one lockout parameter (the name, or the address) stands within the cool-off."""

    failures: int
    limit: int
    last: datetime | None  # the latest failure counted

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit


def _standing(rows: QuerySet[AccessAttempt], limit: int) -> Standing:
    found = rows.aggregate(n=Sum("failures_since_start"), last=Max("attempt_time"))
    return Standing(found["n"] or 0, limit, found["last"])


class DeskAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per lockout parameter instead of one for all.

    Axes compares get_failures() with the one AXES_FAILURE_LIMIT (the account's). Each count is
    scaled to that limit, so the address is locked exactly when its own count reaches
    LOGIN_FAILURES_PER_ADDRESS: floor(n * A / B) >= A holds exactly when n >= B.
    """

    def standings(self, request, credentials: dict | None = None) -> list[Standing]:
        parameters = get_lockout_parameters(request, credentials)
        attempts = self.get_user_attempts(request, credentials)  # within the cool-off
        return [
            _standing(rows, _limit_of(parameter))
            for parameter, rows in zip(parameters, attempts, strict=True)
        ]

    def get_failures(self, request, credentials: dict | None = None) -> int:
        account_limit = settings.LOGIN_FAILURES_PER_ACCOUNT
        scaled = [
            s.failures * account_limit // s.limit for s in self.standings(request, credentials)
        ]
        return max(scaled, default=0)

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        super().user_logged_in(sender, request, user, **kwargs)
        # A success forgives the account's own earlier slips (its rows, from any address), never
        # failures under other names from its address: otherwise an attacker with one valid
        # account could clear the address count between guesses at others.
        AccessAttempt.objects.filter(username=user.get_username().lower()).delete()


class LoginThrottleBackend(AxesStandaloneBackend):
    """Refuses a locked name or address before any password is checked (first in
    AUTHENTICATION_BACKENDS). A call without a request is not a log-in from the web (the test
    client's login(), a shell): there is nobody to throttle, and axes would refuse it."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_until(request: HttpRequest, credentials: dict | None) -> datetime:
    """When the lock on this request's name or address ends: its last counted failure plus the
    cool-off (failures during a lock are not counted). Of a name and an address both locked,
    the later end."""
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    assert isinstance(handler, DeskAxesHandler)  # AXES_HANDLER
    ends = [s.last for s in handler.standings(request, credentials) if s.locked and s.last]
    return max(ends, default=timezone.now()) + cool_off()


def retry_after(until: datetime) -> int:
    return max(1, int((until - timezone.now()).total_seconds()) + 1)


def until_text(until: datetime) -> str:
    local = timezone.localtime(until)
    return local.strftime("%H:%M") + (" UTC" if local.utcoffset() == timedelta(0) else "")


def lockout_message(until: datetime) -> str:
    return (
        "Too many failed log-ins for this account or from your network, so log-ins are paused "
        f"until {until_text(until)}. If you forgot your password, reset it with the link below; "
        "your desk's administrator can also lift the pause."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None = None
) -> HttpResponse:
    """Axes' AXES_LOCKOUT_CALLABLE for the log-in forms: the log-in page again, the email as
    typed, the reason and when to try again."""
    until = locked_until(request, credentials)
    # Unbound: validating the form would try the password again.
    form = LoginForm(request, initial={"username": request.POST.get("username", "")})
    context = {
        "form": form,
        "next": request.POST.get("next", ""),
        "lockout_message": lockout_message(until),
    }
    response = render(request, "tenancy/login.html", context, status=429)
    response["Retry-After"] = str(retry_after(until))
    return response


def attempt_allowed(request: HttpRequest, name: str) -> bool:
    """Whether `name` (and the request's address) may try now."""
    return AxesProxyHandler.is_allowed(request, {"username": name})


def attempt_record(request: HttpRequest, name: str) -> None:
    """Count an attempt (a bad API key, a reset request) under `name` and the request's
    address. It counts toward the next request's lock; this one keeps its own answer, so the
    mark axes puts on it when the limit is reached is taken off again."""
    user_login_failed.send(sender=__name__, credentials={"username": name}, request=request)
    request.axes_locked_out = False  # type: ignore[attr-defined]


def lockout_lift(email: str) -> int:
    """Forget the failures recorded under an account's name, from any address (failures under
    other names from those addresses still count toward the address)."""
    return AxesProxyHandler.reset_attempts(username=email.strip().lower())


def lockouts_for(emails: list[str]) -> dict[str, datetime]:
    """Which of these accounts are locked now, their password or their second step, and until
    when (the members page, one query)."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off())
    names = [e.lower() for e in emails]
    rows = (
        recent.filter(username__in=names + [SECOND_FACTOR + n for n in names])
        .values("username")
        .annotate(n=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    locks: dict[str, datetime] = {}
    for r in rows:
        standing = Standing(r["n"], _limit_of("username"), r["last"])
        if standing.locked and standing.last:
            email, until = r["username"].removeprefix(SECOND_FACTOR), standing.last + cool_off()
            locks[email] = max(locks.get(email, until), until)
    return locks
