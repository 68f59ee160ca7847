"""Beat triggers the refresh of every tenant's dashboard tables; the rows are the truth."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from tenancy.models import Tenant

DB_RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="dashboards.refresh_rollups", **DB_RETRY)
def refresh_rollups() -> int:
    """Fan out one refresh per active tenant, so workers share a large platform's tenants."""
    expires = float(settings.DASHBOARD_REFRESH_SECONDS)
    ids = list(Tenant.objects.filter(is_active=True).values_list("id", flat=True))
    for tenant_id in ids:
        refresh_tenant_rollups.apply_async((tenant_id,), expires=expires)
    return len(ids)


@shared_task(name="dashboards.refresh_tenant_rollups", **DB_RETRY)
def refresh_tenant_rollups(tenant_id: int) -> int:
    from dashboards.services import rollups_refresh

    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        return 0
    return rollups_refresh(tenant=tenant).incidents
