"""Migration operation that puts the tenant into the keys between tenant-owned tables: a
foreign key from one tenant-owned row to another is also declared on (tenant_id, column), so
the database itself refuses a row pointing into another tenant, and the schema is ready to be
sharded by tenant (docs/scaling.md: Citus wants the distribution column in every key between
distributed tables). tests/test_tenant_keys.py fails on a key without it.

Django's foreign keys are single-column; the composite ones live beside them, at the database
level only: the target gains UNIQUE (tenant_id, id) where it lacks it, and the source
FOREIGN KEY (tenant_id, column) REFERENCES target (tenant_id, id), deferred like Django's own.
A nullable column is fine: MATCH SIMPLE skips a row whose column is NULL.

PostgreSQL only: on SQLite (development) it does nothing."""

from __future__ import annotations

import hashlib

from django.db.migrations.operations.base import Operation

NAME_LIMIT = 63  # PostgreSQL's identifier length


def _name(table: str, suffix: str) -> str:
    name = f"{table}_{suffix}"
    if len(name) <= NAME_LIMIT:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{table[: NAME_LIMIT - len(suffix) - 10]}_{digest}_{suffix}"


def target_key_name(table: str) -> str:
    return _name(table, "tenant_id_id_key")


def foreign_key_name(table: str, column: str) -> str:
    return _name(table, f"{column}_tenant_fk")


class TenantKeys(Operation):
    """The composite keys of one tenant-owned model's foreign keys to other tenant-owned
    models (fields: the names of those foreign keys)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, fields: list[str]) -> None:
        self.model_name = model_name
        self.fields = list(fields)

    def deconstruct(self):
        return (
            self.__class__.__qualname__,
            [],
            {"model_name": self.model_name, "fields": self.fields},
        )

    def state_forwards(self, app_label, state) -> None:
        pass

    def _pairs(self, app_label: str, state) -> list[tuple[str, str, str]]:
        """(source table, column, target table) of each field."""
        model = state.apps.get_model(app_label, self.model_name)
        pairs = []
        for name in self.fields:
            field = model._meta.get_field(name)
            target = field.related_model._meta
            if not any(f.name == "tenant" for f in target.concrete_fields):
                raise ValueError(f"{self.model_name}.{name} does not point to a tenant-owned model")
            pairs.append((model._meta.db_table, field.column, target.db_table))
        return pairs

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for table, column, target in self._pairs(app_label, to_state):
            key = target_key_name(target)
            if not _constraint_exists(schema_editor, target, key):
                schema_editor.execute(
                    f"ALTER TABLE {quote(target)} "
                    f"ADD CONSTRAINT {quote(key)} UNIQUE (tenant_id, id)"
                )
            name = foreign_key_name(table, column)
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} "
                f"FOREIGN KEY (tenant_id, {quote(column)}) "
                f"REFERENCES {quote(target)} (tenant_id, id) DEFERRABLE INITIALLY DEFERRED"
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        pairs = self._pairs(app_label, from_state)
        for table, column, _ in pairs:
            name = foreign_key_name(table, column)
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
            )
        # A target's unique key goes with its last composite key (another app's may still use it).
        for target in {target for _, _, target in pairs}:
            key = target_key_name(target)
            if _constraint_exists(schema_editor, target, key) and not _referenced(
                schema_editor, target, key
            ):
                schema_editor.execute(f"ALTER TABLE {quote(target)} DROP CONSTRAINT {quote(key)}")

    def describe(self) -> str:
        return f"Tenant in the foreign keys of {self.model_name}: {', '.join(self.fields)}"


def _constraint_exists(schema_editor, table: str, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
            [schema_editor.quote_name(table), name],
        )
        return cursor.fetchone() is not None


def _referenced(schema_editor, table: str, name: str) -> bool:
    """Whether a foreign key still leans on the unique key `name` of `table`."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT 1 FROM pg_constraint fk
            JOIN pg_constraint uk ON uk.conindid = fk.conindid AND uk.conrelid = fk.confrelid
            WHERE fk.contype = 'f' AND uk.conrelid = %s::regclass AND uk.conname = %s
            """,
            [schema_editor.quote_name(table), name],
        )
        return cursor.fetchone() is not None
