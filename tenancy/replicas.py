"""Read replicas with read-your-writes (docs/replicas.md).

Every write, and every read by default, goes to the primary. A view opts in with
`@replica_reads` (for a class: `@method_decorator(replica_reads, name="get")`): its GET or HEAD
then reads one streaming replica (settings.REPLICA_ALIASES), the same one for the whole view,
unless
- its caller wrote something within REPLICA_PIN_SECONDS (ReadYourWritesMiddleware: a browser
  carries a cookie; an API key is remembered in the shared cache, since integrations rarely keep
  cookies),
- no replica is usable (tenancy/replica_health.py: down, or more than REPLICA_MAX_LAG_SECONDS
  behind).
Within the view, reads go back to the primary once the view writes anything (the router sees
the write) and while the primary is inside a transaction (a service's block reads what it
locks). A replica that fails mid-view (stopped, restarted, a statement cancelled by recovery):
the view is run again on the primary, which is safe for the idempotent GETs that opt in.

The tenant wall holds on the replicas: tenancy/rls.py wraps every PostgreSQL connection,
whichever alias, and a hot standby accepts the transaction-local set_config of the role.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from tenancy import replica_health

log = logging.getLogger("desk.replicas")

SAFE_METHODS = ("GET", "HEAD")
PIN_COOKIE = "desk_primary_until"
# The cache every web process shares (Redis when REDIS_URL is set); API keys' pins live there.
PIN_CACHE = "presence"


@dataclass
class Reading:
    """A view that opted in, reading `alias` until it writes."""

    alias: str
    wrote: bool = False


_reading: ContextVar[Reading | None] = ContextVar("desk_replica_reading", default=None)


def read_alias() -> str:
    """Where a read goes now: the view's replica, or the primary."""
    reading = _reading.get()
    if reading is None or reading.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return reading.alias


def read_connection() -> BaseDatabaseWrapper:
    """For raw SQL that only reads: the connection the router would pick for a query."""
    return connections[read_alias()]


def reading_replica() -> bool:
    return read_alias() != DEFAULT_DB_ALIAS


class ReplicaRouter:
    """settings.DATABASE_ROUTERS when replicas are configured."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        reading = _reading.get()
        if reading is not None:
            reading.wrote = True  # what this view reads next must include what it wrote
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # every alias is the same database

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS  # a replica follows the primary's schema by itself


# --- Read-your-writes --------------------------------------------------------------------------


def _key_pin(request: Any) -> str | None:
    """The cache key pinning an API key's caller; None for a browser (its cookie pins it)."""
    from tenancy.models import ApiKey

    key = getattr(request, "auth", None)
    return f"replica-pin:key:{key.pk}" if isinstance(key, ApiKey) else None


def pinned(request: Any) -> bool:
    with contextlib.suppress(ValueError):
        if float(request.COOKIES.get(PIN_COOKIE, "")) > time.time():
            return True
    cache_key = _key_pin(request)
    if cache_key is None:
        return False
    try:
        return caches[PIN_CACHE].get(cache_key) is not None
    except Exception as exc:  # the shared cache is away: the primary is never stale
        log.warning("replica pins unreadable (%s): the primary answers", exc.__class__.__name__)
        return True


def pin(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.REPLICA_PIN_SECONDS
    cache_key = _key_pin(request)
    if cache_key is None:
        response.set_cookie(
            PIN_COOKIE,
            f"{time.time() + seconds:.3f}",
            max_age=seconds,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        return
    try:
        caches[PIN_CACHE].set(cache_key, 1, timeout=seconds)
    except Exception as exc:  # the write stands; its author may read a replica's older rows
        log.warning("replica pin not kept (%s)", exc.__class__.__name__)


class ReadYourWritesMiddleware:
    """A request that may have written (any method but GET, HEAD, OPTIONS) and did not fail
    pins its caller to the primary for REPLICA_PIN_SECONDS."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in (*SAFE_METHODS, "OPTIONS") and response.status_code < 400:
            pin(request, response)
        return response


# --- Opting in ---------------------------------------------------------------------------------


def _replica_for(request: Any) -> str | None:
    if not replica_health.aliases() or request.method not in SAFE_METHODS or pinned(request):
        return None
    return replica_health.choose()


def replica_reads(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let this GET view read a replica; place it below the role checks, which read the primary."""

    @wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        alias = _replica_for(request)
        if alias is None:
            return view(request, *args, **kwargs)
        token = _reading.set(Reading(alias))
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            failure: Exception = exc
        finally:
            _reading.reset(token)
        # If the primary was the one that failed, the second run fails too and the outage
        # middleware answers 503, as without replicas.
        log.warning(
            "replica %s failed during %s (%s): answered from the primary",
            alias,
            request.path,
            failure.__class__.__name__,
        )
        replica_health.forget(alias)
        with contextlib.suppress(Exception):
            connections[alias].close()
        return view(request, *args, **kwargs)

    return wrapped
