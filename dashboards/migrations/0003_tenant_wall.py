"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("dashboards", "0002_durations_by_bucket"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("incidentfact"),
        TenantWall("dailyrollup"),
        TenantWall("cumulativecounts"),
        TenantWall("rollupstate"),
        TenantWall("figurescache"),
        TenantWall("calendarwindow"),
    ]
