"""The audit log of imports (issue 17): who started an import of which file, and how it ended,
with its counts. A refused upload records nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from imports.services.runs import import_run_create, import_run_execute
from tenancy.errors import InvalidInput, NotAllowed
from tests.imports.conftest import source_row, write_csv

pytestmark = pytest.mark.django_db


def history(number: str) -> list[dict]:
    return [
        source_row(number, "New", 0, "01-03-2016 09:05"),
        source_row(number, "Active", 1, "01-03-2016 10:00", assigned_to="Resolver 1"),
    ]


def upload(tmp_path, rows, name="history.csv") -> SimpleUploadedFile:
    path = write_csv(tmp_path / name, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def start(people, file, **options):
    return import_run_create(
        actor=people.actor(people.ada),
        format="servicenow-eventlog",
        upload=file,
        enqueue=False,
        **options,
    )


def test_an_import_is_recorded_when_started_and_when_finished_with_its_counts(
    people, audit, tmp_path
):
    run = start(people, upload(tmp_path, [*history("INC1"), *history("INC2")]))
    [started] = audit()
    assert (started.action, started.actor_name, started.target_id) == (
        "import.started",
        "Ada Admin",
        str(run.pk),
    )
    assert started.target_label == "import of history.csv"
    assert started.after["file"] == "history.csv"
    assert started.after["format"] == "ServiceNow incident event log (CSV)"
    import_run_execute(run_id=run.pk)
    started_again, finished = audit()
    assert started_again == started
    assert (finished.action, finished.actor_kind, finished.target_id) == (
        "import.finished",
        "system",
        str(run.pk),
    )
    assert finished.after["started_by"] == "Ada Admin"
    assert finished.after["incidents_created"] == 2
    assert finished.after["rows_read"] == 4


def test_an_import_that_fails_is_recorded_with_the_reason(people, audit, tmp_path):
    rows = [
        *history("INC1"),
        source_row("INC2", "New", 0, "01-03-2016 10:00", priority="2 - High"),
    ]
    run = start(people, upload(tmp_path, rows), adopt_matrix=True)
    import_run_execute(run_id=run.pk)
    actions = [r.action for r in audit()]
    assert actions == ["import.started", "import.failed"]
    failed = audit()[-1]
    assert "contradicts itself" in failed.after["error"]


def test_a_refused_upload_records_nothing(people, audit, tmp_path):
    bad = SimpleUploadedFile("x.csv", b"not,the,right,header\n1,2,3,4\n")
    with pytest.raises(InvalidInput):
        start(people, bad)
    with pytest.raises(NotAllowed):
        import_run_create(
            actor=people.actor(people.max),
            format="servicenow-eventlog",
            upload=upload(tmp_path, history("INC1")),
            enqueue=False,
        )
    assert audit() == []


def test_charlies_tenant_gets_none_of_acmes_records(people, audit, tmp_path):
    run = start(people, upload(tmp_path, history("INC1")))
    import_run_execute(run_id=run.pk)
    assert len(audit()) == 2
    assert audit(people.globex) == []
