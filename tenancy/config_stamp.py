"""The tenant's configuration stamp: a random value on the tenant row that PostgreSQL triggers
renew whenever a table a report reads as configuration changes (the priority matrix, SLA
policies and calendars, escalation policies, webhook endpoints).

It is a column the triggers alone write (`tenancy_tenant.config_stamp`), not a model field, so
no `Tenant.save()` can put an old stamp back. Random rather than a counter: a rolled-back change
must not pass its value on to the next change. SQLite has no stamp; readers treat it as unknown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection, migrations, transaction

Service = TypeVar("Service", bound=Callable[..., Any])

FUNCTION = """
CREATE OR REPLACE FUNCTION tenancy_config_changed() RETURNS trigger AS $$
DECLARE
    owner bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        owner := OLD.tenant_id;
    ELSE
        owner := NEW.tenant_id;
    END IF;
    UPDATE tenancy_tenant SET config_stamp = gen_random_uuid() WHERE id = owner;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""


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


def config_write(service: Service) -> Service:
    """Decorates a service that writes configuration reports keep (a table with a stamp
    trigger): in one transaction, it takes the tenant row before anything else.

    The trigger takes that row anyway, but only after the writer has locked the row it writes.
    A report in flight holds a share lock on the tenant row and, at commit, checks its foreign
    keys (to a webhook endpoint, a calendar, a category...) with a key-share lock: it would
    wait for the writer while the writer waits for it. Taken first, the writer simply waits
    for the reports in flight, and two admins' writes queue in one order (matrix_set too).
    """

    @functools.wraps(service)
    def run(*args: Any, actor: Any, **kwargs: Any) -> Any:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT 1 FROM tenancy_tenant WHERE id = %s FOR NO KEY UPDATE",
                        [actor.tenant.pk],
                    )
            return service(*args, actor=actor, **kwargs)

    return run  # type: ignore[return-value]
