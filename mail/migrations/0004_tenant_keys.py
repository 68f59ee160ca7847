"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_integrations"),
        ("mail", "0003_tenant_in_unique_keys"),
    ]

    operations = [
        TenantKeys("autoanswer", fields=["incident"]),
        TenantKeys("inboundmail", fields=["intake", "incident"]),
        TenantKeys("intakeaddress", fields=["category"]),
        TenantKeys("threadmessage", fields=["incident"]),
    ]
