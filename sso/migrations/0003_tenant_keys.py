"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0002_tenant_wall"),
        ("tenancy", "0009_user_sessions"),
    ]

    operations = [
        TenantKeys("ssoconfig", fields=["break_glass"]),
        TenantKeys("ssodomain", fields=["config"]),
    ]
