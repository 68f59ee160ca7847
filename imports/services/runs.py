"""Import runs: created by the upload page or the command, executed in batches with progress.

A run reads its file twice (services/reading.py). Before anything is written it refuses a file
of another shape and, with --adopt-source-matrix, a file that contradicts itself. Then each
batch of incidents commits with the run's counters, so the page's progress bar is the truth
and a run that stops (a crash, a worker killed, its time budget spent) resumes at its cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from itertools import islice
from typing import IO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from imports.formats import format_for
from imports.models import REPORT_LIST_LIMIT, ImportRun, RunState
from imports.services import matrix as source_matrix
from imports.services.reading import Scan, check_header, incidents, scan, text_stream
from imports.services.references import References
from imports.services.replay import Context
from imports.services.writer import BatchOutcome, write_batch
from incidents.services.audited import audit_change, person
from incidents.services.priority import matrix_for
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed, Refusal
from tenancy.services import check_time_zone

log = logging.getLogger(__name__)
BATCH_SIZE = 200
Progress = Callable[[ImportRun], None]


def _stale_claim() -> timedelta:
    # A claim older than the task's hard time limit belongs to a worker that died.
    return timedelta(seconds=settings.IMPORT_TASK_TIME_LIMIT + 60)


def import_run_create(
    *,
    actor: Actor,
    format: str,
    upload: UploadedFile | None = None,
    path: str = "",
    time_zone: str = "",
    adopt_matrix: bool = False,
    enqueue: bool = True,
) -> ImportRun:
    """Record an import of an uploaded file (or, from the command line, a local path) and hand
    it to a worker. A file of another shape is refused here, before anything is written."""
    if actor.role not in ("admin", "system"):
        raise NotAllowed("Only a tenant admin can import incident history.")
    fmt = format_for(format)
    time_zone = time_zone or actor.tenant.time_zone
    check_time_zone(time_zone)
    import_file_check(format=format, upload=upload, path=path)
    active = ImportRun.objects.for_tenant(actor.tenant).filter(
        state__in=(RunState.PENDING, RunState.RUNNING)
    )
    if active.exists():
        raise InvalidInput(
            "An import is still running in this desk; wait for it to finish.", field="file"
        )
    run = ImportRun(
        tenant=actor.tenant,
        format=fmt.NAME,
        source_name=((upload.name if upload else path) or "upload")[-255:],
        source_path=path,
        time_zone=time_zone,
        adopt_matrix=adopt_matrix,
        created_by=actor.user,
    )
    if upload is not None:
        upload.seek(0)
        run.file.save(upload.name or "upload.csv", upload, save=False)
    with transaction.atomic():
        run.save()
        after = {
            "file": run.source_name,
            "format": fmt.LABEL,
            "time_zone": run.time_zone,
            "adopt_source_matrix": run.adopt_matrix,
        }
        audit_change(
            actor=actor, action="import.started", target=run, target_label=_label(run), after=after
        )
        if enqueue:
            _trigger(run.pk)
    return run


def _label(run: ImportRun) -> str:
    return f"import of {run.source_name}"


def _audit_end(run: ImportRun, action: str, **extra: object) -> None:
    """The end of a run, recorded by the system on behalf of whoever started it."""
    counts = {
        "started_by": person(run.created_by) or "the command line",
        "rows_read": run.rows_done,
        "rows_skipped": run.rows_skipped,
        "incidents_created": run.incidents_created,
        "incidents_updated": run.incidents_updated,
        "incidents_unchanged": run.incidents_unchanged,
        "events_created": run.events_created,
        "disagreements": run.disagreements,
        **extra,
    }
    audit_change(
        actor=Actor.system(run.tenant, "Import"),
        action=action,
        target=run,
        target_label=_label(run),
        after=counts,
        always=True,
    )


def import_file_check(
    *, format: str, upload: UploadedFile | None = None, path: str = "", whole: bool = False
) -> None:
    """Refuse a file of another shape from its header; with `whole`, also read every row and
    refuse a file whose priority matrix contradicts itself (what --adopt-source-matrix reads),
    so that the command can refuse before it creates a tenant."""
    fmt = format_for(format)
    with _opened(upload, path) as binary:
        check_header(fmt, binary)
        if whole:
            binary.seek(0)
            with text_stream(binary) as stream:
                source_matrix.propose(fmt, scan(fmt, stream).pairs)


@contextmanager
def _opened(upload: UploadedFile | None, path: str) -> Iterator[IO[bytes]]:
    if upload is not None:
        upload.seek(0)
        yield upload  # type: ignore[misc]
        return
    try:
        with open(path, "rb") as binary:
            yield binary
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.", field="file") from None


def _trigger(run_id: int) -> None:
    from imports.tasks import run_import

    # robust: the run is committed; with the broker away, relay_runs triggers it later, and the
    # person who uploaded it sees the run waiting instead of an error page.
    transaction.on_commit(lambda: run_import.delay(run_id), robust=True)


# --- executing ---------------------------------------------------------------------------------


def _claim(run_id: int) -> ImportRun | None:
    """Only one worker runs a run: a conditional update is the claim."""
    now = timezone.now()
    free = Q(claimed_at=None) | Q(claimed_at__lt=now - _stale_claim())
    claimed = ImportRun.objects.filter(
        free, pk=run_id, state__in=(RunState.PENDING, RunState.RUNNING)
    ).update(state=RunState.RUNNING, claimed_at=now, touched_at=now)
    if not claimed:
        return None
    run = ImportRun.objects.select_related("tenant").get(pk=run_id)
    if run.started_at is None:
        run.started_at = now
        run.save(update_fields=["started_at"])
    return run


@contextmanager
def _source(run: ImportRun) -> Iterator[IO[str]]:
    binary: IO[bytes]
    if run.file:
        binary = run.file.open("rb")  # type: ignore[assignment]  # a File: read, seek, close
    else:
        try:
            binary = open(run.source_path, "rb")  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise InvalidInput(f"Cannot read {run.source_path}: {exc.strerror}.") from None
    try:
        with text_stream(binary) as stream:
            yield stream
    finally:
        binary.close()


def import_run_execute(
    *, run_id: int, budget: float | None = None, on_progress: Progress | None = None
) -> ImportRun | None:
    """Run (or resume) an import. With a `budget` in seconds it stops after the batch that
    spends it and triggers its own continuation, so no task runs long."""
    run = _claim(run_id)
    if run is None:
        return ImportRun.objects.filter(pk=run_id).first()
    started = time.monotonic()
    try:
        fmt = format_for(run.format)
        with _source(run) as stream:
            found = scan(fmt, stream)
        if not run.prepared:
            _prepare(run, fmt, found)
        ctx = _context(run, fmt)
        with _source(run) as stream:
            groups = islice(incidents(fmt, stream, found.rows_per_number), run.incidents_done, None)
            for batch in _batches(groups, BATCH_SIZE):
                _write(run, ctx, batch)
                if on_progress:
                    on_progress(run)
                more = run.incidents_done < run.incidents_total
                if more and budget is not None and time.monotonic() - started > budget:
                    return _hand_over(run)
        return _finish(run)
    except Refusal as exc:
        return _fail(run, exc.message)
    except OperationalError:
        _let_go(run)  # the database went away: the task retries, or the relay triggers it again
        raise
    except Exception:
        log.exception("import run %s failed", run_id)
        _fail(
            run,
            "The import stopped on an unexpected error (the server log has the details). What "
            "was imported stays; importing the file again continues from there.",
        )
        raise


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


@transaction.atomic
def _prepare(run: ImportRun, fmt, found: Scan) -> None:
    """Before the first incident: the matrix (when adopted), the totals, the malformed rows."""
    report: dict = {"skipped": [s.as_dict() for s in found.skipped[:REPORT_LIST_LIMIT]]}
    if run.adopt_matrix:
        proposal = source_matrix.propose(fmt, found.pairs)
        changed = source_matrix.adopt(tenant=run.tenant, proposal=proposal)
        report["filled_cells"] = proposal.filled
        report["matrix"] = {
            "changed": changed,
            "scale": [label for _, label in proposal.scale],
            "matrix": proposal.matrix,
        }
    run.report = report
    run.rows_total = found.rows_total
    run.rows_skipped = run.rows_done = len(found.skipped)
    run.incidents_total = found.incidents_total
    run.prepared = True
    run.touched_at = timezone.now()
    run.save()


def _context(run: ImportRun, fmt) -> Context:
    levels = {
        (impact, urgency): level
        for impact, row in matrix_for(run.tenant).items()
        for urgency, level in row.items()
    }
    return Context(
        tenant=run.tenant,
        tz=ZoneInfo(run.time_zone),
        fmt=fmt,
        refs=References(run.tenant, fmt.SOURCE),
        levels=levels,
    )


def _write(run: ImportRun, ctx: Context, batch: list[list]) -> None:
    ctx.refs.ensure(row for rows in batch for row in rows)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                out = write_batch(ctx, batch)
                _after_batch(ctx, out)
                _record(run, out, len(batch))
            return
        except IntegrityError:
            # Another import created one of these incidents first: read them again and add
            # only what they lack. A second failure is a real error.
            run.refresh_from_db()
            if attempt == 2:
                raise


def _after_batch(ctx: Context, out: BatchOutcome) -> None:
    """What follows from the written history: the SLA clocks. Nothing is sent."""
    ctx.clocks.write(ctx.tenant_id, [incident for incident, _ in out.written])


def _record(run: ImportRun, out: BatchOutcome, incidents_in_batch: int) -> None:
    run.rows_done += out.rows
    run.rows_skipped += len(out.skipped)
    run.incidents_done += incidents_in_batch
    run.incidents_created += out.created
    run.incidents_updated += out.updated
    run.incidents_unchanged += out.unchanged
    run.events_created += out.events
    run.disagreements += len(out.disagreements)
    report = dict(run.report)
    for name, items in (
        ("skipped", [s.as_dict() for s in out.skipped]),
        ("disagreements", out.disagreements),
    ):
        kept = report.get(name, [])
        report[name] = kept + items[: max(0, REPORT_LIST_LIMIT - len(kept))]
    run.report = report
    run.claimed_at = run.touched_at = timezone.now()
    run.save()


def _let_go(run: ImportRun) -> None:
    with suppress(OperationalError):  # if it fails too, the claim goes stale instead
        ImportRun.objects.filter(pk=run.pk).update(claimed_at=None, touched_at=timezone.now())


def _hand_over(run: ImportRun) -> ImportRun:
    run.claimed_at = None
    run.touched_at = timezone.now()
    run.save(update_fields=["claimed_at", "touched_at"])
    _trigger(run.pk)
    return run


@transaction.atomic
def _finish(run: ImportRun) -> ImportRun:
    run.state = RunState.DONE
    run.finished_at = run.touched_at = timezone.now()
    run.claimed_at = None
    run.save()
    _audit_end(run, "import.finished")
    return run


@transaction.atomic
def _fail(run: ImportRun, message: str) -> ImportRun:
    run.state = RunState.FAILED
    run.error = message
    run.finished_at = run.touched_at = timezone.now()
    run.claimed_at = None
    run.save()
    _audit_end(run, "import.failed", error=message)
    return run


def runs_to_relay(*, limit: int = 50) -> list[int]:
    """Runs that lost their trigger (a flushed broker) or their worker (a stale claim)."""
    now = timezone.now()
    quiet = now - timedelta(seconds=settings.IMPORT_RELAY_AFTER_SECONDS)
    lost = ImportRun.objects.filter(
        Q(claimed_at=None) | Q(claimed_at__lt=now - _stale_claim()),
        state__in=(RunState.PENDING, RunState.RUNNING),
        touched_at__lt=quiet,
    )
    return list(lost.order_by("touched_at").values_list("pk", flat=True)[:limit])
