"""The second wall between tenants (tenancy/rls.py): the role the desk's statements run as, and
the policies of tenancy's own tables. Memberships are also visible to their person, who must
find their organisations before choosing one."""

from django.db import migrations

from tenancy.rls_migrations import CreateTenantRole, TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0006_audit_log"),
    ]

    operations = [
        CreateTenantRole(),
        TenantWall("membership", by_person=True),
        TenantWall("tenantcounter"),
        TenantWall("invitation"),
        TenantWall("apikey"),
        TenantWall("idempotencyrecord"),
        TenantWall("auditrecord"),
    ]
