"""Helpers for the import tests: the real ServiceNow sample, small hand-made files in its shape,
and the expected values computed from a file with the csv module (never from our tables)."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from imports.models import ImportRun, RunState

# The settings pages' signed-in admin in Chromium at phone width, for the browser tests here.
# The real-worker fixture the outbox and SLA tests use, shared here for the import's progress.
from tests.escalation.conftest import celery_worker_process  # noqa: E402,F401
from tests.incidents.test_settings_browser import (  # noqa: E402,F401
    admin_page,
    browser_context_args,
    settings_url,
)

SAMPLE = Path(__file__).parent / "data" / "incident_event_log_sample.csv"
HEADER = next(csv.reader(SAMPLE.open(newline="")))


def day_first(text: str) -> datetime:
    return datetime.strptime(text, "%d-%m-%Y %H:%M")


def histories(path: Path = SAMPLE) -> dict[str, list[dict]]:
    """Each incident's rows in history order (sys_mod_count, then sys_updated_at)."""
    found: dict[str, list[dict]] = defaultdict(list)
    with path.open(newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            found[row["number"]].append({**row, "line": line})
    for rows in found.values():
        rows.sort(key=lambda r: (int(r["sys_mod_count"]), day_first(r["sys_updated_at"])))
    return dict(found)


def without_line(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "line"}


def source_row(number: str, state: str, mod: int, updated: str, **fields: str) -> dict:
    """A row in the sample's shape; fields override the defaults."""
    row = {name: "?" for name in HEADER}
    row.update(
        number=number,
        incident_state=state,
        active="FALSE" if state == "Closed" else "TRUE",
        reassignment_count="0",
        reopen_count="0",
        sys_mod_count=str(mod),
        made_sla="TRUE",
        caller_id="Caller 1",
        opened_by="Opened by 1",
        opened_at="01-03-2016 09:00",
        sys_created_by="Created by 1",
        sys_created_at="01-03-2016 09:00",
        sys_updated_by="Updated by 1",
        sys_updated_at=updated,
        contact_type="Phone",
        category="Category 1",
        impact="2 - Medium",
        urgency="2 - Medium",
        priority="3 - Moderate",
        assignment_group="Group 1",
        closed_code="code 1",
        resolved_by="Resolved by 1",
    )
    row.update(fields)
    return row


def write_csv(path: Path, rows: Sequence[dict | list], header: list[str] | None = None) -> Path:
    """Rows as dicts (in the sample's columns) or as raw lists of fields."""
    header = header or HEADER
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row if isinstance(row, list) else [row[name] for name in header])
    return path


def running_run(tenant, *, rows: tuple[int, int], incidents: tuple[int, int]) -> ImportRun:
    """A run part way: (done, total) rows and incidents, as a worker leaves it between batches."""
    return ImportRun.objects.create(
        tenant=tenant,
        format="servicenow-eventlog",
        source_name="big.csv",
        state=RunState.RUNNING,
        rows_done=rows[0],
        rows_total=rows[1],
        incidents_done=incidents[0],
        incidents_created=incidents[0],
        incidents_total=incidents[1],
    )


def run_command(path: Path, *options: str, tenant: str = "snow") -> str:
    """Run `manage.py import_incidents` and return what it printed."""
    out = io.StringIO()
    call_command(
        "import_incidents",
        str(path),
        "--tenant",
        tenant,
        "--format",
        "servicenow-eventlog",
        *options,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue()


@pytest.fixture
def import_file(db):
    return run_command
