"""The second wall between tenants on single sign-on's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("sso", "0001_sso_config"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("ssoconfig"),
        TenantWall("ssodomain"),
    ]
