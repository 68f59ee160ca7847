"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0003_tenant_wall"),
        ("escalation", "0014_tenant_in_unique_keys"),
        ("incidents", "0015_integrations"),
    ]

    operations = [
        TenantKeys("calendarwindow", fields=["calendar"]),
        TenantKeys("incidentfact", fields=["incident"]),
    ]
