import inspect
import os
from contextvars import Token

from celery import Celery
from celery.signals import task_failure, task_postrun, task_prerun
from django.db import close_old_connections

from servicedesk.task_stats import count_failure
from tenancy import rls

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


# Each task behind the tenant wall (tenancy/rls.py): in its tenant when it is given one
# (a tenant_id argument), else in a bypass named after it, as the sweeps and relays that serve
# every tenant need. Entered after the connection check above, left before the next task's.
_scopes: dict[str, Token] = {}


def _task_tenant(task, args, kwargs) -> int | None:
    try:
        bound = inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
    except TypeError:
        return None
    tenant_id = bound.arguments.get("tenant_id")
    return tenant_id if isinstance(tenant_id, int) else None


def _enter_scope(sender=None, task_id=None, args=None, kwargs=None, **rest) -> None:
    tenant_id = _task_tenant(sender, args, kwargs)
    scope = (
        rls.Scope(tenant_id=tenant_id)
        if tenant_id is not None
        # Celery logs each task by name already: the bypass goes to the log at debug level.
        else rls.Scope(bypass=f"task {getattr(sender, 'name', sender)}", routine=True)
    )
    _scopes[task_id] = rls.enter(scope)


def _leave_scope(sender=None, task_id=None, **rest) -> None:
    token = _scopes.pop(task_id, None)
    if token is not None:
        rls.leave(token)


task_prerun.connect(_enter_scope, weak=False)
task_postrun.connect(_leave_scope, weak=False)
