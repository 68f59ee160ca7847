"""Migration operations of the second wall (tenancy/rls.py): the role the desk's statements run
as, and the policy of each tenant-owned table. A migration that adds a tenant-owned model adds
its TenantWall too; tests/tenancy/test_rls_catalogue.py fails on a table without one.

PostgreSQL only: on SQLite (development) they do nothing."""

from __future__ import annotations

from django.conf import settings
from django.db.migrations.operations.base import Operation

POLICY = "tenant_wall"
TENANT = "tenant_id = NULLIF(current_setting('desk.tenant', true), '')::bigint"
PERSON = "user_id = NULLIF(current_setting('desk.user', true), '')::bigint"
WRITES = "SELECT, INSERT, UPDATE, DELETE"


def _role() -> str:
    return settings.DATABASE_RLS_ROLE  # checked as a plain name by settings.py


class CreateTenantRole(Operation):
    """The NOLOGIN role the policies bind, granted to whoever runs the migrations (so the desk,
    connecting as that role, may switch to it), with the rights on every table, now and later."""

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        role = _role()
        # Roles belong to the whole cluster: another database (a test worker's) may create it
        # at the same moment, hence the handlers.
        schema_editor.execute(
            f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    BEGIN
      CREATE ROLE {role} NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'The desk needs the role {role} for row-level security. As a '
          'superuser: CREATE ROLE {role} NOLOGIN; GRANT {role} TO %; then migrate again '
          '(docs/security.md).', current_user;
    END;
  END IF;
  IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT {role} TO %I', current_user);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
END $$""",
            params=None,
        )
        schema_editor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        schema_editor.execute(f"GRANT {WRITES} ON ALL TABLES IN SCHEMA public TO {role}")
        schema_editor.execute(
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}"
        )
        schema_editor.execute(
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT {WRITES} ON TABLES TO {role}"
        )
        schema_editor.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        # The role stays: other databases of the cluster may use it.
        pass

    def describe(self) -> str:
        return "Create the role the tenant wall binds"


class TenantWall(Operation):
    """Row-level security on one tenant-owned model's table: its rows only in its tenant's
    scope (and, with by_person, a person's own rows before a tenant is chosen)."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, by_person: bool = False) -> None:
        self.model_name = model_name
        self.by_person = by_person

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.by_person:
            kwargs["by_person"] = True
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state) -> None:
        pass

    def _table(self, app_label: str, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        rule = f"{TENANT} OR {PERSON}" if self.by_person else TENANT
        schema_editor.execute(f"GRANT {WRITES} ON {table} TO {_role()}")
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({rule}) WITH CHECK ({rule})"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Row-level security on {self.model_name}"
