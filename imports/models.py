"""One import of a file of incident history into a tenant, with its progress and report."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantOwned

REPORT_LIST_LIMIT = 500  # rows of each report list kept; the counts stay exact beyond it


def import_file_path(instance: ImportRun, filename: str) -> str:
    name = PurePath(filename).name[-80:]
    return f"imports/{instance.tenant_id}/{uuid.uuid4().hex}-{name}"


class RunState(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Refused or failed"


class ImportRun(TenantOwned):
    """The row the upload page polls. Its counters move in the same transaction as each batch
    of incidents, so after a crash the run resumes exactly where it stopped
    (`incidents_done` is the cursor)."""

    format = models.CharField(max_length=40)
    file = models.FileField(upload_to=import_file_path, max_length=255, blank=True)
    # A file the command line reads where it lies, without a copy in the storage.
    source_path = models.CharField(max_length=500, blank=True)
    source_name = models.CharField(max_length=255)
    time_zone = models.CharField(max_length=64, default="UTC")
    adopt_matrix = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.PENDING)
    # Who holds the run: a worker refreshes it after every batch; a stale claim (the worker
    # died) may be taken over, and the run resumes at its cursor.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Moved by every claim, batch and hand-over: a run nobody touched for a while has lost
    # its trigger (a flushed broker) and the relay task triggers it again.
    touched_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    prepared = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    incidents_total = models.PositiveIntegerField(default=0)
    incidents_done = models.PositiveIntegerField(default=0)
    incidents_created = models.PositiveIntegerField(default=0)
    incidents_updated = models.PositiveIntegerField(default=0)
    incidents_unchanged = models.PositiveIntegerField(default=0)
    events_created = models.PositiveIntegerField(default=0)
    disagreements = models.PositiveIntegerField(default=0)
    # skipped: [{line, number, reason}], disagreements: [{number, line, source, derived}],
    # filled_cells: [{impact, urgency, priority}], matrix: what --adopt-source-matrix did.
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="importrun_tenant_created")]

    def __str__(self) -> str:
        return f"import of {self.source_name} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == RunState.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)

    @property
    def format_label(self) -> str:
        from imports.formats import FORMATS

        module = FORMATS.get(self.format)
        return module.LABEL if module else self.format

    @property
    def is_active(self) -> bool:
        return self.state in (RunState.PENDING, RunState.RUNNING)
