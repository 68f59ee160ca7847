import os

from celery import Celery
from celery.signals import task_failure

from servicedesk.task_stats import count_failure

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")

app = Celery("servicedesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Counted for /metrics across every worker process (servicedesk/task_stats.py).
task_failure.connect(count_failure, weak=False)
