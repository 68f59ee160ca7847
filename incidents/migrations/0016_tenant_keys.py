"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0015_integrations"),
    ]

    operations = [
        TenantKeys("alertlog", fields=["integration", "incident"]),
        TenantKeys("alertsource", fields=["incident"]),
        TenantKeys("attachment", fields=["incident", "comment"]),
        TenantKeys("category", fields=["group"]),
        TenantKeys("comment", fields=["incident"]),
        TenantKeys("groupmember", fields=["group"]),
        TenantKeys(
            "incident",
            fields=["priority", "category", "group", "resolution_code", "duplicate_of", "parent"],
        ),
        TenantKeys("incidentcontact", fields=["incident"]),
        TenantKeys("incidentevent", fields=["incident"]),
        TenantKeys("incidentmute", fields=["incident"]),
        TenantKeys("integration", fields=["default_category"]),
        TenantKeys("participant", fields=["incident"]),
        TenantKeys("prioritymatrixcell", fields=["level"]),
    ]
