"""A malformed row is reported with its line and reason while the rest imports; a file of
another shape, or one whose priorities contradict each other, is refused before anything is
written."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from imports.models import ImportRun
from incidents.models import Incident, IncidentEvent, PriorityMatrixCell
from tenancy.models import Tenant
from tests.factories import make_tenant
from tests.imports.conftest import source_row, write_csv


def good(number: str) -> list[dict]:
    return [
        source_row(number, "New", 0, "01-03-2016 09:05"),
        source_row(number, "Active", 1, "01-03-2016 10:00", assigned_to="Resolver 1"),
        source_row(number, "Resolved", 2, "01-03-2016 11:00", resolved_at="01-03-2016 11:00"),
        source_row(number, "Closed", 3, "06-03-2016 12:00", closed_at="06-03-2016 12:00"),
    ]


def test_malformed_rows_are_reported_by_line_and_the_rest_imports(db, tmp_path, import_file):
    rows = [
        *good("INC1"),  # lines 2-5
        source_row("INC2", "New", 0, "31-02-2016 10:00"),  # 6: no such day
        source_row("INC2", "Pending", 1, "01-03-2016 10:00"),  # 7: not a ServiceNow state
        ["INC2", "New", "TRUE"],  # 8: three fields
        source_row("INC2", "New", 2, "01-03-2016 10:00", impact="9 - Huge"),  # 9
        source_row("INC1", "Closed", 3, "06-03-2016 12:00"),  # 10: repeats line 5
        source_row("?", "New", 0, "01-03-2016 10:00"),  # 11: no number
        source_row("INC3", "New", "x", "01-03-2016 10:00"),  # 12: no modification count
        *good("INC4"),  # lines 13-16
    ]
    output = import_file(write_csv(tmp_path / "bad.csv", rows), "--create-tenant")
    run = ImportRun.objects.get(tenant__slug="snow")
    assert [(s["line"], s["number"], s["reason"]) for s in run.report["skipped"]] == [
        (6, "INC2", "sys_updated_at '31-02-2016 10:00' is not a real date and time"),
        (7, "INC2", "incident_state 'Pending' is not a ServiceNow state (New, Active, Awaiting "
                    "User Info, Awaiting Evidence, Awaiting Problem, Awaiting Vendor, Awaiting "
                    "Change, Resolved, Closed, Canceled, Cancelled)"),
        (8, "INC2", "expected 36 fields, found 3"),
        (9, "INC2", "impact '9 - Huge' is not one of 1 - High, 2 - Medium or 3 - Low"),
        (11, "", "the row has no incident number"),
        (12, "INC3", "sys_mod_count 'x' is not a whole number"),
        (10, "INC1", "repeats the update of line 5 (same sys_mod_count and sys_updated_at)"),
    ]  # fmt: skip
    assert run.rows_skipped == 7 and run.rows_total == 15 and run.state == "done"
    assert "line 8 (INC2): expected 36 fields, found 3" in output
    imported = Incident.objects.filter(tenant__slug="snow")
    assert sorted(imported.values_list("source_number", "state")) == [
        ("INC1", "closed"),
        ("INC4", "closed"),
    ]
    assert run.percent == 100 and run.rows_done == run.rows_total


SHAPES = {
    "another tool's export": "id,title,status,created\n1,Printer,open,2016-03-01\n",
    "an empty file": "",
    "a header only, of another shape": "number;incident_state;sys_mod_count\n",
}


@pytest.mark.parametrize("content", SHAPES.values(), ids=SHAPES.keys())
def test_a_file_of_another_shape_is_refused_before_anything_is_written(
    db, tmp_path, import_file, content
):
    path = tmp_path / "other.csv"
    path.write_text(content)
    with pytest.raises(CommandError) as refused:
        import_file(path, "--create-tenant")
    assert "Nothing was imported" in str(refused.value) or "empty" in str(refused.value)
    assert not Tenant.objects.filter(slug="snow").exists()
    assert not ImportRun.objects.exists() and not Incident.objects.exists()


def test_a_file_missing_one_column_names_it(db, tmp_path, import_file):
    make_tenant("snow")
    header = [c for c in source_row("X", "New", 0, "01-03-2016 09:00") if c != "closed_code"]
    path = write_csv(tmp_path / "short.csv", [], header=header)
    with pytest.raises(
        CommandError, match=r"1 of the columns it needs are missing \(closed_code\)"
    ):
        import_file(path)
    assert not ImportRun.objects.exists()


def test_a_file_that_is_not_text_is_refused(db, tmp_path, import_file):
    make_tenant("snow")
    good_file = write_csv(tmp_path / "g.csv", good("INC1"))
    path = tmp_path / "binary.csv"
    path.write_bytes(good_file.read_bytes() + b"\xff\xfe\x00garbage\n")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        import_file(path)
    assert not Incident.objects.exists()


def test_a_file_that_contradicts_itself_is_refused_when_adopting_its_matrix(
    db, tmp_path, import_file
):
    rows = [
        *good("INC1"),  # medium x medium -> 3 - Moderate
        source_row("INC2", "New", 0, "01-03-2016 10:00", priority="2 - High"),  # line 6
    ]
    path = write_csv(tmp_path / "contradicts.csv", rows)
    with pytest.raises(CommandError) as refused:
        import_file(path, "--create-tenant", "--adopt-source-matrix")
    message = str(refused.value)
    assert "contradicts itself" in message
    assert "medium impact x medium urgency gives 3 - Moderate in 4 row(s) from line 2" in message
    assert "2 - High in 1 row(s) from line 6" in message
    assert not Tenant.objects.filter(slug="snow").exists() and not Incident.objects.exists()


def test_an_upload_that_contradicts_itself_fails_its_run_and_writes_nothing(
    db, tmp_path, django_capture_on_commit_callbacks
):
    """Through the service as the upload page uses it: the run ends refused, with the reason."""
    from imports.services.runs import import_run_create
    from tenancy.actors import Actor

    tenant = make_tenant("snow")
    cells = list(PriorityMatrixCell.objects.for_tenant(tenant).values_list("level__slug"))
    rows = [*good("INC1"), source_row("INC2", "New", 0, "01-03-2016 10:00", priority="2 - High")]
    path = write_csv(tmp_path / "contradicts.csv", rows)
    with django_capture_on_commit_callbacks(execute=True):  # the task, eager in tests
        run = import_run_create(
            actor=Actor.system(tenant), format="servicenow-eventlog", path=str(path),
            adopt_matrix=True,
        )  # fmt: skip
    run.refresh_from_db()
    assert run.state == "failed" and "contradicts itself" in run.error
    assert not Incident.objects.exists() and not IncidentEvent.objects.exists()
    after = list(PriorityMatrixCell.objects.for_tenant(tenant).values_list("level__slug"))
    assert after == cells
