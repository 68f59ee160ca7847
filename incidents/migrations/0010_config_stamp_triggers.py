from django.db import migrations

from tenancy.config_stamp import stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_number_taken_last"),
        ("tenancy", "0004_config_stamp"),
    ]

    operations = [
        stamp_trigger("incidents_prioritymatrixcell"),
        stamp_trigger("incidents_prioritylevel"),
        stamp_trigger("incidents_category"),
        stamp_trigger("incidents_assignmentgroup"),
    ]
