"""Progress through a real Celery worker: the upload's run is executed by a worker process
(on PostgreSQL and Redis), handing itself over between batches, while the page's progress
part, polled as htmx does, climbs to 100% and ends with the report."""

from __future__ import annotations

import math
import re
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRun
from imports.services.runs import BATCH_SIZE, import_run_create
from imports.tasks import run_import
from incidents.models import Incident
from servicedesk.celery import app
from tests.imports.conftest import SAMPLE, histories

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
PERCENT = re.compile(r'data-testid="import-percent">(\d+)<')


def test_the_progress_bar_climbs_while_a_worker_imports_the_sample(
    people, transactional_db, settings, login, celery_worker_process
):
    upload = SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes(), content_type="text/csv")
    run = import_run_create(
        actor=people.actor(people.ada),
        format="servicenow-eventlog",
        upload=upload,
        adopt_matrix=True,
        enqueue=False,
    )
    progress = reverse("settings-import-progress", kwargs={"tenant_slug": "acme", "pk": run.pk})
    client = login(people.ada)
    seen: list[int] = []
    # A budget of zero hands the run to a new task after every batch: the continuation path.
    env = {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "IMPORT_TASK_BUDGET_SECONDS": "0"}
    worker = celery_worker_process(env=env)
    app.conf.task_always_eager = False  # this test sends through the broker, as the page does
    run_import.delay(run.pk)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        part = client.get(progress).content.decode()
        seen.append(int(PERCENT.search(part).group(1)))
        if "Done" in part:
            break
        time.sleep(0.2)
    run.refresh_from_db()
    assert run.state == "done", run.error
    assert seen[-1] == 100 and seen == sorted(seen)
    assert any(0 < p < 100 for p in seen), seen  # it was seen part way
    expected = histories()
    assert (
        run.incidents_created
        == len(expected)
        == Incident.objects.for_tenant(people.acme).filter(source_number__startswith="INC").count()
    )
    assert run.disagreements == 0
    assert ImportRun.objects.get(pk=run.pk).claimed_at is None
    # One task per batch: each handed the run to the next one.
    log = worker.log()
    tasks = re.findall(r"Task imports\.run_import\[[^\]]+\] succeeded", log)
    assert len(tasks) == math.ceil(len(expected) / BATCH_SIZE)
