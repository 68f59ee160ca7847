"""Breached resolution clocks of resolved incidents are set aside (escalation.clock_rules.
set_aside): stopped at the resolve, still breached, so every live clock belongs to an open
incident and "Breaching soon" need not read the incidents' state. The clocks resolved before
this rule kept counting; they are stopped at their incident's resolved_at (now, if it has none).

Hand-written: keep the RunPython when migrations are regenerated."""

from django.db import migrations

# One statement for every tenant. The tenant wall (tenancy/rls.py) does not hide the rows: as
# every migration, this runs in manage.py's named bypass (DESK_RLS_DEFAULT), as the role that
# owns the tables, which the policies do not bind. The tenant is matched in the join all the
# same (the clock's incident is its tenant's, tenancy/key_migrations.py).
SET_ASIDE = """
UPDATE {clock} AS c
   SET stopped_at = COALESCE(i.resolved_at, CURRENT_TIMESTAMP)
  FROM {incident} AS i
 WHERE i.id = c.incident_id
   AND i.tenant_id = c.tenant_id
   AND i.state = %s
   AND c.metric = %s
   AND c.state = %s
   AND c.stopped_at IS NULL
"""


def set_aside_resolved(apps, schema_editor) -> None:
    clock = apps.get_model("escalation", "SlaClock")._meta.db_table
    incident = apps.get_model("incidents", "Incident")._meta.db_table
    sql = SET_ASIDE.format(clock=clock, incident=incident)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql, ["resolved", "resolution", "breached"])


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0015_tenant_keys"),
    ]

    operations = [
        # Backwards nothing: the code before reads a clock set aside as a breach that ended
        # ("Breached"), and its queue left resolved incidents out anyway. Which stops this
        # backfill made is not recorded, so none is undone (a reopen under that code leaves
        # such a clock stopped).
        migrations.RunPython(set_aside_resolved, migrations.RunPython.noop, elidable=True),
    ]
