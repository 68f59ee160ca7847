"""The tenant in every foreign key between this app's tenant-owned tables and others
(tenancy/key_migrations.py, docs/scaling.md)."""

from django.db import migrations

from tenancy.key_migrations import TenantKeys


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0014_tenant_in_unique_keys"),
        ("incidents", "0015_integrations"),
        ("oncall", "0002_tenant_wall"),
        ("tenancy", "0009_user_sessions"),
    ]

    operations = [
        TenantKeys("calendarholiday", fields=["calendar"]),
        TenantKeys("escalationlevel", fields=["policy", "schedule"]),
        TenantKeys("escalationpolicy", fields=["group", "calendar"]),
        TenantKeys("escalationrun", fields=["incident", "policy"]),
        TenantKeys("incidentwatcher", fields=["incident"]),
        TenantKeys("mailpreferences", fields=["membership"]),
        TenantKeys("notification", fields=["incident", "endpoint"]),
        TenantKeys("slaalert", fields=["clock", "run"]),
        TenantKeys("slaclock", fields=["incident", "policy", "calendar"]),
        TenantKeys("slapause", fields=["clock"]),
        TenantKeys("slapolicy", fields=["priority", "calendar"]),
    ]
