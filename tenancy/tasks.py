"""Housekeeping of the tenancy tables, triggered by beat."""

from celery import shared_task

from tenancy.api.idempotency import idempotency_purge


@shared_task(name="tenancy.purge_idempotency")
def purge_idempotency() -> int:
    """Forget the API's Idempotency-Key answers older than IDEMPOTENCY_KEEP_HOURS."""
    return idempotency_purge()
