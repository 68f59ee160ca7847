from django.db import migrations

from tenancy.config_stamp import FUNCTION, postgres_only


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_api_keys_idempotency"),
    ]

    operations = [
        postgres_only(
            "ALTER TABLE tenancy_tenant "
            "ADD COLUMN config_stamp uuid NOT NULL DEFAULT gen_random_uuid()",
            "ALTER TABLE tenancy_tenant DROP COLUMN config_stamp",
        ),
        postgres_only(FUNCTION, "DROP FUNCTION IF EXISTS tenancy_config_changed()"),
    ]
