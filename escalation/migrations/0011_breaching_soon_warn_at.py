"""SlaClock.warn_at, filled in for the clocks that have one, and the two indexes of "Breaching
soon" (the live clocks by due time and by warning time, the tenant first)."""

from datetime import datetime

from django.db import migrations, models

LIVE = models.Q(
    ("due_at__isnull", False), ("state__in", ["running", "breached"]), ("stopped_at__isnull", True)
)


def _warn_at(clock) -> datetime | None:
    # escalation.models.SlaClock.warning_instant as it stands here (a migration keeps its copy).
    if clock.state == "breached":
        return clock.breached_at or clock.due_at
    first = min([int(p) for p in clock.warn_percents if 0 < int(p) < 100] or [100])
    for percent, at in clock.checkpoints:
        if int(percent) == first:
            return datetime.fromisoformat(str(at))
    return clock.running_since


def fill_warn_at(apps, schema_editor) -> None:
    SlaClock = apps.get_model("escalation", "SlaClock")
    live = SlaClock.objects.filter(LIVE).only(
        "state", "warn_percents", "checkpoints", "running_since", "breached_at", "due_at"
    )
    batch = []
    for clock in live.iterator(chunk_size=2000):
        clock.warn_at = _warn_at(clock)
        batch.append(clock)
        if len(batch) >= 2000:
            SlaClock.objects.bulk_update(batch, ["warn_at"])
            batch = []
    SlaClock.objects.bulk_update(batch, ["warn_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0010_escalation_kind_and_escalated_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="slaclock",
            name="warn_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_warn_at, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=LIVE, fields=["tenant", "due_at", "id"], name="slaclock_tenant_live_due"
            ),
        ),
        migrations.AddIndex(
            model_name="slaclock",
            index=models.Index(
                condition=LIVE, fields=["tenant", "warn_at"], name="slaclock_tenant_live_warn"
            ),
        ),
    ]
