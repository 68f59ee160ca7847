"""Importing the same file again changes nothing; a later export adds only what is new."""

from __future__ import annotations

from imports.models import ImportRun
from incidents.models import Incident, IncidentEvent
from tests.factories import make_tenant
from tests.imports.conftest import histories, without_line, write_csv

CHOSEN = ["INC0000045", "INC0000715", "INC0001287"]


def rows_of(*numbers: str) -> list[dict]:
    return [without_line(r) for n in numbers for r in histories()[n]]


def snapshot(slug: str) -> tuple:
    incidents = Incident.objects.filter(tenant__slug=slug).order_by("source_number")
    events = IncidentEvent.objects.filter(tenant__slug=slug).order_by("id")
    return (
        list(incidents.values()),
        list(events.values_list("id", "kind", "transition", "created_at", "source_key")),
    )


def test_importing_the_same_file_again_changes_nothing(db, tmp_path, import_file):
    path = write_csv(tmp_path / "three.csv", rows_of(*CHOSEN))
    import_file(path, "--create-tenant", "--adopt-source-matrix")
    before = snapshot("snow")
    output = import_file(path, "--adopt-source-matrix")
    assert snapshot("snow") == before
    again = ImportRun.objects.filter(tenant__slug="snow").latest("id")
    assert (again.incidents_created, again.incidents_updated, again.events_created) == (0, 0, 0)
    assert again.incidents_unchanged == len(CHOSEN)
    assert "0 imported, 0 given new rows, 3 already imported and unchanged" in output
    assert again.report["matrix"]["changed"] is False


def test_a_later_export_adds_only_the_rows_an_incident_lacks(db, tmp_path, import_file):
    history = rows_of("INC0000715")
    import_file(write_csv(tmp_path / "early.csv", history[:4]), "--create-tenant")
    early = Incident.objects.get(tenant__slug="snow", source_number="INC0000715")
    assert early.state == "diagnosing" and early.reopen_count == 1
    import_file(write_csv(tmp_path / "later.csv", history))
    run = ImportRun.objects.filter(tenant__slug="snow").latest("id")
    assert (run.incidents_created, run.incidents_updated) == (0, 1)
    incident = Incident.objects.get(tenant__slug="snow", source_number="INC0000715")
    assert incident.number == early.number
    assert incident.state == "closed" and incident.reopen_count == 2
    assert incident.version > early.version

    # The same story as importing the whole history at once.
    import_file(write_csv(tmp_path / "whole.csv", history), "--create-tenant", tenant="whole")
    whole = Incident.objects.get(tenant__slug="whole", source_number="INC0000715")

    def story(i: Incident) -> list:
        events = IncidentEvent.objects.filter(incident=i).order_by("id")
        return list(
            events.values_list("kind", "transition", "to_state", "created_at", "source_key")
        )

    assert story(incident) == story(whole)
    assert incident.closed_at == whole.closed_at and incident.resolved_at == whole.resolved_at


def test_a_row_older_than_the_history_already_imported_is_reported_not_inserted(
    db, tmp_path, import_file
):
    history = rows_of("INC0000045")  # updates 0, 2, 3, 4
    import_file(write_csv(tmp_path / "a.csv", [history[0], history[2]]), "--create-tenant")
    output = import_file(write_csv(tmp_path / "b.csv", history))
    run = ImportRun.objects.filter(tenant__slug="snow").latest("id")
    assert run.report["skipped"] == [
        {
            "line": 3,
            "number": "INC0000045",
            "reason": "comes before the history already imported for INC0000045, so it cannot "
            "be added to it",
        }
    ]
    assert "line 3 (INC0000045): comes before the history" in output
    incident = Incident.objects.get(tenant__slug="snow", source_number="INC0000045")
    assert incident.state == "closed"


def test_the_same_source_number_in_two_tenants_is_two_incidents(db, tmp_path, import_file):
    make_tenant("other")
    path = write_csv(tmp_path / "one.csv", rows_of("INC0000045"))
    import_file(path, "--create-tenant")
    import_file(path, tenant="other")
    assert Incident.objects.filter(source_number="INC0000045").count() == 2
    assert ImportRun.objects.get(tenant__slug="other").incidents_created == 1
