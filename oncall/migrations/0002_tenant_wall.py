"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("oncall", "0001_schedules"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("schedule"),
        TenantWall("layer"),
        TenantWall("layermember"),
        TenantWall("override"),
    ]
