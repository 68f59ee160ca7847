"""The incident table is vacuumed after 2% of its rows change, not PostgreSQL's 20%.

With many tenants in one table, one tenant's busy hour (a storm, a bulk update) changes a few
percent of the rows: too few for the default to vacuum, enough to clear the visibility map
of every page they touch. The desk's capped queue counts and dashboard counts are index-only
scans that then read the heap too: in the 1,000-tenant bench (bench/tenants_bench.py), after
20,000 of each huge tenant's incidents were written to, its warm dashboard took 157 ms (3.9x
the 10,000-incident reference) until a VACUUM brought it back to 75-82 ms (1.4-1.5x). With
this setting autovacuum took the 6.9% those writes changed within 50 s (bench/README.md).
PostgreSQL only (SQLite has no such setting); a storage parameter, so no table is rewritten.
"""

from django.db import migrations

TABLE = "incidents_incident"
OFTEN = (
    "autovacuum_vacuum_scale_factor = 0.02",
    "autovacuum_analyze_scale_factor = 0.02",
    "autovacuum_vacuum_insert_scale_factor = 0.02",
)


def _alter(schema_editor, clause: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} {clause}")


def vacuum_often(apps, schema_editor) -> None:
    _alter(schema_editor, f"SET ({', '.join(OFTEN)})")


def vacuum_by_default(apps, schema_editor) -> None:
    names = ", ".join(option.split(" = ")[0] for option in OFTEN)
    _alter(schema_editor, f"RESET ({names})")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0016_tenant_keys")]

    operations = [migrations.RunPython(vacuum_often, vacuum_by_default)]
