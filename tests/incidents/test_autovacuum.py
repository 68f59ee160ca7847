"""The incident table's autovacuum thresholds (migration incidents 0017): one tenant's busy hour
changes a few percent of a many-tenant table, which must be enough to vacuum it, or the desk's
index-only counts read the heap (the migration's docstring has the figures)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.postgres


def test_the_incident_table_is_vacuumed_and_analysed_once_two_percent_of_it_changes(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = 'incidents_incident'::regclass")
        (options,) = cursor.fetchone()
    assert set(options or []) >= {
        "autovacuum_vacuum_scale_factor=0.02",
        "autovacuum_analyze_scale_factor=0.02",
        "autovacuum_vacuum_insert_scale_factor=0.02",
    }
