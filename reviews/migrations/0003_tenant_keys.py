"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_integrations"),
        ("reviews", "0002_tenant_wall"),
    ]

    operations = [
        TenantKeys("actionitem", fields=["review"]),
        TenantKeys("review", fields=["incident"]),
        TenantKeys("timelineentry", fields=["review"]),
    ]
