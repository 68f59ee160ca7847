"""The second wall between tenants on this app's tables (tenancy/rls.py)."""

from django.db import migrations

from tenancy.rls_migrations import TenantWall


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0013_search_document"),
        ("tenancy", "0007_tenant_wall"),
    ]

    operations = [
        TenantWall("prioritylevel"),
        TenantWall("prioritymatrixcell"),
        TenantWall("assignmentgroup"),
        TenantWall("groupmember"),
        TenantWall("category"),
        TenantWall("resolutioncode"),
        TenantWall("incident"),
        TenantWall("incidentevent"),
        TenantWall("comment"),
        TenantWall("attachment"),
        TenantWall("participant"),
        TenantWall("incidentmute"),
        TenantWall("incidentcontact"),
        TenantWall("alertsource"),
        TenantWall("cannedresponse"),
    ]
