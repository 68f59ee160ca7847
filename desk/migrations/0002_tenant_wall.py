"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0001_saved_views"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("savedview"),
    ]
