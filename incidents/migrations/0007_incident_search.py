"""Full-text search for the desk's queue filter (PostgreSQL only; SQLite filters with LIKE).

Hand-written: keep it when migrations are regenerated. The expression must stay the one
incidents.selectors.search_vector() builds, so PostgreSQL matches the queue's filter to the
index (a PostgreSQL test checks the plan). btree_gin lets the GIN index lead with tenant_id,
so a search stays inside one tenant's entries.
"""

from django.contrib.postgres.operations import BtreeGinExtension
from django.db import migrations

INDEX_NAME = "incident_search"


def _index():
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector
    from django.db.models import F

    vector = SearchVector("title", "description", config="english")
    return GinIndex(F("tenant"), vector, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("incidents", "Incident"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("incidents", "Incident"), _index())


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_desk_queue_indexes"),
    ]

    operations = [
        BtreeGinExtension(),
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
