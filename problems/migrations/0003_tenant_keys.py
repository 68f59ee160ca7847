"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_integrations"),
        ("problems", "0002_tenant_wall"),
    ]

    operations = [
        TenantKeys("problem", fields=["priority", "category", "group"]),
        TenantKeys("problemevent", fields=["problem"]),
        TenantKeys("problemlink", fields=["problem", "incident"]),
    ]
