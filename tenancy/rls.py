"""The second wall between tenants: PostgreSQL row-level security (docs/security.md).

Every tenant-owned table carries a policy (tenancy/rls_migrations.py): a row is visible and
writable only when its tenant_id is the transaction's `desk.tenant` (memberships also when their
user_id is `desk.user`, so a person can find their own organisations before choosing one). The
policy binds only roles that are neither superuser nor table owner, so the desk runs each
statement as the NOLOGIN role `settings.DATABASE_RLS_ROLE`, switched to with
`set_config('role', ..., true)`: transaction-local, like SET LOCAL, so nothing outlives the
transaction on a server connection that PgBouncer (transaction pooling) hands to someone else.

Which tenant is current is a scope, held in a context variable:
- a web request starts with no tenant (it sees no tenant's rows), becomes the signed-in person's
  (their memberships) and then the tenant of its URL or API key (tenancy/middleware.py,
  tenancy/api/views.py);
- a Celery task runs in its tenant when it is given one, else in a named bypass
  (servicedesk/celery.py); a management command, a benchmark or the test process starts in a
  named bypass (`DESK_RLS_DEFAULT`, set by manage.py, celery.py, bench/ and the tests).
A bypass runs the statement as the connection's own role, which the policies do not bind. Each
one is named, and logged when it starts (logger desk.rls).

The application's queries keep their tenant filters: this wall is the second, for the query that
forgets its filter. Raw COPY (cursor.copy_expert) is not wrapped and runs as the connection's role.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

from django.conf import settings

log = logging.getLogger("desk.rls")


@dataclass(frozen=True)
class Scope:
    """What the next statement may see: one tenant's rows, a person's memberships, or (bypass)
    everything, for a named reason."""

    tenant_id: int | None = None
    user_id: int | None = None
    bypass: str = ""
    # A lookup every request makes (an API key by its prefix) is logged at debug level only.
    routine: bool = False


NOTHING = Scope()
_current: ContextVar[Scope | None] = ContextVar("desk_rls_scope", default=None)


def _process_default() -> Scope:
    # "bypass:<reason>" for a process that is not a web server (commands, workers, tests).
    value = os.environ.get("DESK_RLS_DEFAULT", "")
    kind, _, reason = value.partition(":")
    return Scope(bypass=reason or kind) if kind == "bypass" else NOTHING


_default: Scope | None = None


def current() -> Scope:
    global _default
    scope = _current.get()
    if scope is not None:
        return scope
    if _default is None:  # read once, late: the tests set it after importing the desk
        _default = _process_default()
    return _default


def enter(scope: Scope) -> Token:
    if scope.bypass:
        log.log(
            logging.DEBUG if scope.routine else logging.INFO,
            "tenant wall bypassed: %s",
            scope.bypass,
        )
    return _current.set(scope)


def leave(token: Token) -> None:
    _current.reset(token)


@contextmanager
def scoped(scope: Scope) -> Iterator[Scope]:
    token = enter(scope)
    try:
        yield scope
    finally:
        leave(token)


def tenant_scope(tenant_id: int, *, user_id: int | None = None):
    return scoped(Scope(tenant_id=tenant_id, user_id=user_id))


def person_scope(user_id: int | None):
    """A person's own memberships, and no tenant's rows: before a tenant is chosen."""
    return scoped(Scope(user_id=user_id))


def bypass(reason: str, *, routine: bool = False):
    """Every tenant's rows, for a system-wide job. Name the job: the log says who opened it."""
    if not reason:
        raise ValueError("A bypass of the tenant wall needs a reason.")
    return scoped(Scope(bypass=reason, routine=routine))


def within(scope: Scope, iterable) -> Iterator:
    """Iterate a streamed response's content in the scope of the request that made it: Django
    iterates it after the middleware has returned."""
    with scoped(scope):
        yield from iterable


# --- Applying the scope to each statement -----------------------------------------------------


def enabled() -> bool:
    return bool(getattr(settings, "DATABASE_RLS", False))


def _literal(value: int | None) -> str:
    return "" if value is None else str(int(value))


def _prefix(scope: Scope, in_transaction: bool) -> str:
    if scope.bypass:
        # Outside a transaction nothing is left of an earlier statement's role; inside one,
        # a statement of the request may have switched it: switch back.
        return "SELECT set_config('role', 'none', true); " if in_transaction else ""
    return (
        f"SELECT set_config('role', '{settings.DATABASE_RLS_ROLE}', true), "
        f"set_config('desk.tenant', '{_literal(scope.tenant_id)}', true), "
        f"set_config('desk.user', '{_literal(scope.user_id)}', true); "
    )


# Savepoint commands read no rows, and ROLLBACK TO SAVEPOINT must run alone in an aborted
# transaction, where any other statement before it fails.
# SET TRANSACTION must be a transaction's first statement: the next statement sets the scope.
_UNTOUCHED = ("ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT", "SET TRANSACTION")


def wall(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    """A connection's execute wrapper: each statement first sets the role and the tenant for
    its transaction, in the same round trip (one simple-protocol query; psycopg2 answers with
    the last statement's result)."""
    if not enabled() or sql.startswith(_UNTOUCHED):
        return execute(sql, params, many, context)
    prefix = _prefix(current(), context["connection"].in_atomic_block)
    return execute(prefix + sql if prefix else sql, params, many, context)


def install(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """connection_created: wrap the new connection's statements (PostgreSQL only)."""
    if connection is None or connection.vendor != "postgresql":
        return
    if wall not in connection.execute_wrappers:
        connection.execute_wrappers.append(wall)
