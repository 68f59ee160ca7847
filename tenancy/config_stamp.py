"""The tenant's configuration stamp: a random value on the tenant row that PostgreSQL triggers
renew whenever a table a report reads as configuration changes (the priority matrix, SLA
policies and calendars, escalation policies, webhook endpoints).

It is a column the triggers alone write (`tenancy_tenant.config_stamp`), not a model field, so
no `Tenant.save()` can put an old stamp back. Random rather than a counter: a rolled-back change
must not pass its value on to the next change. SQLite has no stamp; readers treat it as unknown.

Reports and configuration changes exclude each other through a transaction-level advisory lock
per tenant: shared for a report (`report_lock`), exclusive for a change (`config_write`, and the
trigger itself, for writes that bypass the services). PostgreSQL queues a heavyweight lock
request behind a waiting one that conflicts with it, so a change waits only for the reports
already in flight; a row lock on the tenant row would let newly arriving reports go ahead of
it, and under steady report traffic a change waited up to 2 s (bench/config_bench.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection, migrations, transaction

from tenancy.errors import Refusal

Service = TypeVar("Service", bound=Callable[..., Any])

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait
LOCK_SPACE = 7301  # the first key of the advisory lock; the second is the tenant's id
_KEY = "%s, mod(%s, 2147483647)::int"  # the id folded into int4: a clash only waits, never errs


def _function(first: str = "") -> str:
    return f"""
CREATE OR REPLACE FUNCTION tenancy_config_changed() RETURNS trigger AS $$
DECLARE
    owner bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        owner := OLD.tenant_id;
    ELSE
        owner := NEW.tenant_id;
    END IF;{first}
    UPDATE tenancy_tenant SET config_stamp = gen_random_uuid() WHERE id = owner;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


FUNCTION = _function()  # as tenancy 0004 created it
# Since tenancy 0005: the trigger also takes the change's exclusive lock, so a write that
# bypasses the services (a script, a shell) still waits for the reports in flight.
FUNCTION_LOCKING = _function(
    f"\n    PERFORM pg_advisory_xact_lock({LOCK_SPACE}, mod(owner, 2147483647)::int);"
)


def _on_postgres(sql: str):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


def postgres_only(forward: str, backward: str) -> migrations.RunPython:
    return migrations.RunPython(_on_postgres(forward), _on_postgres(backward))


def stamp_trigger(table: str, events: str = "INSERT OR UPDATE OR DELETE") -> migrations.RunPython:
    """A migration operation: any row written to `table` renews its tenant's stamp."""
    name = f"{table}_config_stamp"
    return postgres_only(
        f"CREATE TRIGGER {name} AFTER {events} ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION tenancy_config_changed()",
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
    )


def report_lock(tenant_id: int) -> str | None:
    """Take a report's shared lock on the tenant's configuration until the transaction ends;
    return the stamp, None on SQLite (one writer at a time there).

    Two statements in one round trip (psycopg2 returns the last one's rows): the stamp is read
    after the lock is granted, so with the snapshot of a statement that began after any change
    it waited for had committed."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_advisory_xact_lock_shared({_KEY}); "
            "SELECT config_stamp::text FROM tenancy_tenant WHERE id = %s",
            [LOCK_SPACE, tenant_id, tenant_id],
        )
        return cursor.fetchone()[0]


class ConfigBusy(Refusal):
    """A change gave up waiting for the reports in flight (CONFIG_LOCK_WAIT_MS): nothing was
    saved, and a moment later it will go through."""

    code = "busy"
    status = 503
    problem_type = "busy"

    def problem_headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def config_lock(tenant_id: int) -> None:
    """Take the tenant's configuration exclusively until the transaction ends, waiting at most
    CONFIG_LOCK_WAIT_MS: reports arriving meanwhile queue behind the change, so a report stuck
    in flight must not let the change hold them up for longer than that."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        usual = cursor.fetchone()[0]
        wait = f"{settings.CONFIG_LOCK_WAIT_MS}ms"
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [wait])
        try:
            cursor.execute(f"SELECT pg_advisory_xact_lock({_KEY})", [LOCK_SPACE, tenant_id])
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            raise ConfigBusy(
                "Reports are being filed right now and the change could not wait for them: "
                "nothing was saved. Try again in a moment."
            ) from None
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [usual])


def config_write(service: Service) -> Service:
    """Decorates a service that writes configuration reports keep (a table with a stamp
    trigger): in one transaction, it takes the exclusive lock before anything else.

    The trigger takes that lock anyway, but only after the writer has locked the row it writes.
    A report in flight holds the shared lock and, at commit, checks its foreign keys (to a
    webhook endpoint, a calendar, a category...) with a key-share lock: it would wait for the
    writer while the writer waits for it. Taken first, the writer simply waits for the reports
    in flight, and two admins' writes queue in one order (matrix_set too).
    """

    @functools.wraps(service)
    def run(*args: Any, actor: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            config_lock(actor.tenant.pk)
            return service(*args, actor=actor, **kwargs)

    return run  # type: ignore[return-value]
