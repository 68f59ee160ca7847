"""Import rate of incident history (issue 8) on PostgreSQL, next to creating the same incidents
one by one through the live services (incident_report + transitions), in one run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench_import \\
        .venv/bin/python bench/import_bench.py [--scale 100] [--services-copies 1]

The database named in DATABASE_URL is dropped and re-created. The runs:
  1. the ServiceNow sample (tests/imports/data, 5,998 rows of 890 incidents), imported;
  2. the same file imported again (nothing changes: the idempotent pass);
  3. a synthetic file `--scale` times larger: the sample's rows copied with renumbered incidents;
  4. the sample's incidents created through the services (`--services-copies` copies of it), each
     state change of the file driven through the live transitions (a move the live desk makes in
     several steps, such as New -> Resolved, takes them all).
Rates are source rows (the file's events) per second and events written per second. Celery
triggers go to an in-memory broker: the live path's outbox rows and clocks are written, nothing
is delivered.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "imports" / "data" / "incident_event_log_sample.csv"
sys.path.insert(0, str(ROOT))


def prepare_database() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is dropped and re-created).")
    parsed = urlparse(url)
    name, admin = parsed.path.lstrip("/"), url.replace(parsed.path, "/postgres")
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)


def synthetic_file(folder: Path, scale: int) -> Path:
    """The sample's rows `scale` times, each copy with its own incident numbers."""
    path = folder / f"servicenow_x{scale}.csv"
    with SAMPLE.open(newline="") as src, path.open("w", newline="") as out:
        reader, writer = csv.reader(src), csv.writer(out)
        writer.writerow(next(reader))
        rows = list(reader)
        for copy in range(scale):
            for row in rows:
                writer.writerow([f"{row[0]}-{copy:03d}", *row[1:]])
    return path


def import_timed(slug: str, path: Path) -> dict:
    from imports.models import ImportRun
    from imports.services.runs import import_run_create, import_run_execute
    from incidents.models import IncidentEvent
    from tenancy.actors import Actor
    from tenancy.models import Tenant
    from tenancy.services import tenant_create

    tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(slug=slug, name=slug)
    events_before = IncidentEvent.objects.for_tenant(tenant).count()
    started = time.perf_counter()
    run = import_run_create(
        actor=Actor.system(tenant, "Import"),
        format="servicenow-eventlog",
        path=str(path),
        adopt_matrix=True,
        enqueue=False,
    )
    import_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    run = ImportRun.objects.get(pk=run.pk)
    assert run.state == "done", run.error
    written = IncidentEvent.objects.for_tenant(tenant).count() - events_before
    return {
        "rows": run.rows_total,
        "incidents": run.incidents_created,
        "events": written,
        "seconds": seconds,
        "disagreements": run.disagreements,
    }


def services_timed(slug: str, copies: int) -> dict:
    """The sample's incidents through incident_report and the transition services."""
    from bench.live_replay import LiveDesk
    from imports.formats import servicenow
    from imports.services.reading import incidents, scan, text_stream
    from incidents.models import IncidentEvent

    desk = LiveDesk.create(slug)
    with SAMPLE.open("rb") as binary, text_stream(binary) as stream:
        counts = scan(servicenow, stream).rows_per_number
    with SAMPLE.open("rb") as binary, text_stream(binary) as stream:
        histories = list(incidents(servicenow, stream, counts))
    started = time.perf_counter()
    for _ in range(copies):
        for rows in histories:
            desk.replay(rows)
    seconds = time.perf_counter() - started
    events = IncidentEvent.objects.for_tenant(desk.tenant).count()
    rows = sum(len(r) for r in histories) * copies
    return {
        "rows": rows,
        "incidents": len(histories) * copies,
        "events": events,
        "seconds": seconds,
        "disagreements": "",
    }


def rate(r: dict, what: str = "rows") -> float:
    return r[what] / r["seconds"]


def line(name: str, r: dict) -> str:
    return (
        f"{name:<34} {r['incidents']:>8,} {r['rows']:>9,} {r['events']:>9,} "
        f"{r['seconds']:>9.1f} {rate(r):>10,.0f} {rate(r, 'events'):>10,.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--services-copies", type=int, default=1)
    args = parser.parse_args()
    prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # Filling tenants is a system job; the requests measured set their own scope (tenancy/rls.py).
    os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")
    import django

    django.setup()
    from servicedesk.celery import app

    app.conf.broker_url = "memory://"  # the live path's triggers go nowhere
    app.conf.task_always_eager = False
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        big_file = synthetic_file(Path(folder), args.scale)
        results["importer, sample"] = import_timed("bench-sample", SAMPLE)
        results["importer, sample again (no change)"] = import_timed("bench-sample", SAMPLE)
        results[f"importer, sample x{args.scale}"] = import_timed("bench-big", big_file)
    results[f"services, sample x{args.services_copies}"] = services_timed(
        "bench-live", args.services_copies
    )
    print(f"{'run':<34} {'incidents':>8} {'rows':>9} {'events':>9} {'seconds':>9} "
          f"{'rows/s':>10} {'events/s':>10}")  # fmt: skip
    for name, r in results.items():
        print(line(name, r))
    live = results[f"services, sample x{args.services_copies}"]
    sample = results["importer, sample"]
    big = results[f"importer, sample x{args.scale}"]
    print(
        f"importer / services, rows per second: sample {rate(sample) / rate(live):.1f}x, "
        f"x{args.scale} {rate(big) / rate(live):.1f}x"
    )


if __name__ == "__main__":
    main()
