"""Housekeeping of the tenancy tables, triggered by beat."""

from celery import shared_task

from tenancy.account.services import sessions_forget_expired
from tenancy.api.idempotency import idempotency_purge
from tenancy.audit import audit_prune
from tenancy.models import Tenant


@shared_task(name="tenancy.purge_idempotency")
def purge_idempotency() -> int:
    """Forget the API's Idempotency-Key answers older than IDEMPOTENCY_KEEP_HOURS."""
    return idempotency_purge()


@shared_task(name="tenancy.prune_audit")
def prune_audit() -> int:
    """Each tenant's audit records past its retention period; each tenant's pruning recorded."""
    return sum(audit_prune(tenant=tenant) for tenant in Tenant.objects.order_by("pk"))


@shared_task(name="tenancy.prune_sessions")
def prune_sessions() -> int:
    """Expired sessions, and the account page's rows of sessions that no longer exist."""
    return sessions_forget_expired()
