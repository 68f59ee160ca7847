"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("oncall", "0002_tenant_wall"),
    ]

    operations = [
        TenantKeys("layer", fields=["schedule"]),
        TenantKeys("layermember", fields=["layer"]),
        TenantKeys("override", fields=["schedule"]),
    ]
