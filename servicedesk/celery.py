import os

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun
from django.db import close_old_connections

from servicedesk.task_stats import count_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Counted for /metrics across every worker process (servicedesk/task_stats.py).
task_failure.connect(count_failure, weak=False)


# A task treats the database as a request does: it keeps its connection (DATABASE_CONN_MAX_AGE)
# and checks it before the first query (CONN_HEALTH_CHECKS), so a restarted database costs one
# failed check, not a failed task. Celery's own Django fixup would close the connection around
# every task unless CELERY_DB_REUSE_MAX is set (settings.py): a new PostgreSQL session per
# delivery was most of a storm's cost.
# An eager task (tests, task_always_eager) runs inside its caller's transaction: not a boundary.
def _between_tasks(sender=None, **kwargs) -> None:
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()


task_prerun.connect(_between_tasks, weak=False)
task_postrun.connect(_between_tasks, weak=False)
