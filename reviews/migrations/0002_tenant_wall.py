"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_reviews"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("review"),
        TenantWall("timelineentry"),
        TenantWall("actionitem"),
    ]
