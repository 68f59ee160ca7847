"""Housekeeping of the incidents tables, triggered by beat."""

from celery import shared_task

from incidents.intake.receive import alert_log_prune
from tenancy import rls


@shared_task(name="incidents.prune_alert_log")
def prune_alert_log() -> int:
    """Every tenant's alert log rows past INTEGRATION_LOG_RETENTION_DAYS."""
    with rls.bypass("the alert log's retention covers every tenant", routine=True):
        return alert_log_prune()
