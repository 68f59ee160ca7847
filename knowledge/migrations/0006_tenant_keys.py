"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_integrations"),
        ("knowledge", "0005_tenant_in_unique_keys"),
        ("problems", "0002_tenant_wall"),
    ]

    operations = [
        TenantKeys("article", fields=["category"]),
        TenantKeys("articleincident", fields=["article", "incident"]),
        TenantKeys("articleproblem", fields=["article", "problem"]),
        TenantKeys("articleversion", fields=["article"]),
        TenantKeys("articlevote", fields=["article"]),
        TenantKeys("deflection", fields=["article"]),
    ]
