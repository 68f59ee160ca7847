from django.db import migrations

from tenancy.config_stamp import FUNCTION, FUNCTION_LOCKING, postgres_only


class Migration(migrations.Migration):
    """The stamp trigger takes the configuration's exclusive advisory lock first."""

    dependencies = [
        ("tenancy", "0004_config_stamp"),
    ]

    operations = [postgres_only(FUNCTION_LOCKING, FUNCTION)]
