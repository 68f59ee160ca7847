"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_article_recent"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("article"),
        TenantWall("articleincident"),
        TenantWall("articleproblem"),
        TenantWall("articleversion"),
        TenantWall("articlevote"),
        TenantWall("deflection"),
    ]
