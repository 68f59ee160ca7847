from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from imports.services import runs


@shared_task(
    name="imports.run_import",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    # Each task spends at most IMPORT_TASK_BUDGET_SECONDS, then hands the run to the next one,
    # so these limits stay far below the broker's visibility timeout.
    soft_time_limit=settings.IMPORT_TASK_TIME_LIMIT - 30,
    time_limit=settings.IMPORT_TASK_TIME_LIMIT,
)
def run_import(run_id: int) -> str:
    run = runs.import_run_execute(run_id=run_id, budget=settings.IMPORT_TASK_BUDGET_SECONDS)
    return run.state if run is not None else "gone"


@shared_task(name="imports.relay_runs", autoretry_for=(OperationalError,), max_retries=3)
def relay_runs() -> int:
    ids = runs.runs_to_relay()
    for run_id in ids:
        run_import.delay(run_id)
    return len(ids)
