"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("escalation", "0011_breaching_soon_warn_at"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("notification"),
        TenantWall("webhookendpoint"),
        TenantWall("businesscalendar"),
        TenantWall("calendarholiday"),
        TenantWall("slapolicy"),
        TenantWall("slaclock"),
        TenantWall("slapause"),
        TenantWall("escalationpolicy"),
        TenantWall("escalationlevel"),
        TenantWall("escalationrun"),
        TenantWall("slaalert"),
        TenantWall("incidentwatcher"),
        TenantWall("mailpreferences"),
    ]
