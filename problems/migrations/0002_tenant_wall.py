"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("problems", "0001_problems"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("problem"),
        TenantWall("problemevent"),
        TenantWall("problemlink"),
    ]
