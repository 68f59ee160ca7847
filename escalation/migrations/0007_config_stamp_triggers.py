from django.db import migrations

from tenancy.config_stamp import stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0006_slaclock_breached_index"),
        ("tenancy", "0004_config_stamp"),
    ]

    # A report reads the stored SLA policy of its level and creates a missing one (with the
    # default calendars) on first use: those inserts leave the stamp alone, because what a
    # report keeps never records that something is missing, and renewing the stamp would make
    # two such reports wait on each other's shared lock (tenancy/config_stamp.py).
    operations = [
        stamp_trigger("escalation_slapolicy", "UPDATE OR DELETE"),
        stamp_trigger("escalation_businesscalendar", "UPDATE OR DELETE"),
        stamp_trigger("escalation_calendarholiday"),
        stamp_trigger("escalation_escalationpolicy"),
        stamp_trigger("escalation_escalationlevel"),
        stamp_trigger(
            "escalation_webhookendpoint",
            "INSERT OR DELETE OR UPDATE OF url, secret, events, slack_format, is_active",
        ),
    ]
