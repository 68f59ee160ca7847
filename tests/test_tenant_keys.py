"""The schema is ready to be sharded by tenant (docs/scaling.md): read from PostgreSQL's own
catalogue, every unique key of a tenant-owned table includes tenant_id (but for a short list of
global lookups that exist by design), and every foreign key from one tenant-owned table to
another is also declared on (tenant_id, column), so the database refuses a row that points
into another tenant (tenancy/key_migrations.py)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from incidents.services import incident_report
from tenancy import rls
from tests.desk.desk_support import report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=False)]

# Unique keys without the tenant, each a lookup that must find the tenant before it knows it.
# docs/scaling.md ("Global lookups") says how each one works on Citus.
GLOBAL_LOOKUPS = {
    ("tenancy_apikey", ("prefix",)): "an API request names its key, not its tenant",
    ("incidents_integration", ("key_hash",)): "a monitoring alert carries only its key",
    ("mail_intakeaddress", ("address",)): "a mail arrives at an address, which names the tenant",
    ("sso_ssodomain", ("domain",)): "sign-in by email domain: one domain, one tenant",
}
# One-to-ones between tenant-owned rows: the column names a row of one tenant (its composite
# foreign key says so), so its unique key is the tenant's already. Django reads the uniqueness
# from the field (a reverse select_related needs it): the key stays, and becomes
# (tenant_id, column) in SQL at the cut-over to Citus (docs/scaling.md).
ONE_TO_ONE = {
    ("escalation_mailpreferences", ("membership_id",)): "one member's mail choices",
    ("problems_problemlink", ("incident_id",)): "an incident has at most one problem",
}
ALLOWED = GLOBAL_LOOKUPS | ONE_TO_ONE

OWNED = """
    SELECT c.oid FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""

UNIQUE_KEYS = f"""
    SELECT t.relname, i.relname, ARRAY(
        SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n)
    FROM pg_index x
    JOIN pg_class t ON t.oid = x.indrelid
    JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indisunique AND NOT x.indisprimary AND x.indrelid IN ({OWNED})
"""

# Each foreign key between tenant-owned tables, with whether a composite twin exists:
# (tenant_id, column) to the same target's (tenant_id, id).
FOREIGN_KEYS = f"""
    SELECT s.relname, a.attname, t.relname, EXISTS (
        SELECT 1 FROM pg_constraint twin
        JOIN pg_attribute st ON st.attrelid = twin.conrelid AND st.attname = 'tenant_id'
        JOIN pg_attribute tt ON tt.attrelid = twin.confrelid AND tt.attname = 'tenant_id'
        JOIN pg_attribute ti ON ti.attrelid = twin.confrelid AND ti.attname = 'id'
        WHERE twin.contype = 'f' AND twin.conrelid = fk.conrelid
          AND twin.confrelid = fk.confrelid
          AND twin.conkey = ARRAY[st.attnum, fk.conkey[1]]
          AND twin.confkey = ARRAY[tt.attnum, ti.attnum])
    FROM pg_constraint fk
    JOIN pg_class s ON s.oid = fk.conrelid
    JOIN pg_class t ON t.oid = fk.confrelid
    JOIN pg_attribute a ON a.attrelid = fk.conrelid AND a.attnum = fk.conkey[1]
    WHERE fk.contype = 'f' AND cardinality(fk.conkey) = 1 AND a.attname <> 'tenant_id'
      AND fk.conrelid IN ({OWNED}) AND fk.confrelid IN ({OWNED})
"""


def _rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def unique_keys_without_tenant() -> list[str]:
    return sorted(
        f"{table}: unique {index} on ({', '.join(columns)}) lacks tenant_id"
        for table, index, columns in _rows(UNIQUE_KEYS)
        if "tenant_id" not in columns and (table, tuple(columns)) not in ALLOWED
    )


def foreign_keys_without_tenant() -> list[str]:
    return sorted(
        f"{table}.{column} -> {target}: no FOREIGN KEY (tenant_id, {column}) "
        f"REFERENCES {target} (tenant_id, id) (add a TenantKeys operation)"
        for table, column, target, twinned in _rows(FOREIGN_KEYS)
        if not twinned
    )


def test_every_tenant_owned_model_is_read_from_the_catalogue():
    tables = {name for (name,) in _rows(f"SELECT relname FROM pg_class WHERE oid IN ({OWNED})")}
    owned = {
        m._meta.db_table
        for m in apps.get_models()
        if any(f.name == "tenant" for f in m._meta.concrete_fields)
    }
    assert len(owned) > 50
    assert owned - tables == set()


def test_every_tenant_owned_unique_key_includes_the_tenant():
    assert unique_keys_without_tenant() == []


def test_each_global_lookup_on_the_allowlist_still_exists():
    """The list stays short and true: an entry whose key has gone is taken off."""
    keys = {(table, tuple(columns)) for table, _, columns in _rows(UNIQUE_KEYS)}
    assert set(ALLOWED) - keys == set()


def test_every_foreign_key_between_tenant_owned_tables_includes_the_tenant():
    keys = _rows(FOREIGN_KEYS)
    assert len(keys) > 60
    assert foreign_keys_without_tenant() == []


def test_a_new_table_with_single_column_keys_fails_both_checks():
    """What a new model that forgot its keys looks like to the checks (rolled back)."""
    with rls.bypass("the test creates a table"), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE keys_probe (id bigserial PRIMARY KEY, "
            "tenant_id bigint NOT NULL REFERENCES tenancy_tenant (id), "
            "incident_id bigint REFERENCES incidents_incident (id), code text UNIQUE)"
        )
        assert unique_keys_without_tenant() == [
            "keys_probe: unique keys_probe_code_key on (code) lacks tenant_id"
        ]
        assert foreign_keys_without_tenant() == [
            "keys_probe.incident_id -> incidents_incident: no FOREIGN KEY (tenant_id, incident_id) "
            "REFERENCES incidents_incident (tenant_id, id) (add a TenantKeys operation)"
        ]
        cursor.execute(
            "ALTER TABLE keys_probe ADD FOREIGN KEY (tenant_id, incident_id) "
            "REFERENCES incidents_incident (tenant_id, id)"
        )
        assert foreign_keys_without_tenant() == []


@pytest.fixture
def two_tenants(people):
    ours = report(people, "Acme printer jammed")
    theirs = incident_report(
        actor=people.actor(people.charlie, people.globex), title="Globex merger plans"
    )
    return ours, theirs


def _link_parent(child_id: int, parent_id: int) -> None:
    with rls.bypass("the test links across tenants on purpose"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET parent_id = %s WHERE id = %s", [parent_id, child_id]
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_database_refuses_a_row_pointing_into_another_tenant(two_tenants):
    ours, theirs = two_tenants
    with pytest.raises(IntegrityError, match="incident_parent_id_tenant_fk"), transaction.atomic():
        _link_parent(ours.pk, theirs.pk)


def test_a_row_pointing_into_its_own_tenant_is_accepted(people, two_tenants):
    ours, _ = two_tenants
    sibling = report(people, "Acme scanner jammed")
    with transaction.atomic():
        _link_parent(sibling.pk, ours.pk)
    sibling.refresh_from_db()
    assert sibling.parent_id == ours.pk
