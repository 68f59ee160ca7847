"""The tenant admin's imports page: upload, progress, report; admins only, others get 404."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportRun, RunState
from incidents.models import Incident
from tests.desk.desk_support import row_numbers
from tests.imports.conftest import histories, running_run, source_row, without_line, write_csv


def page(slug: str = "acme") -> str:
    return reverse("settings-imports", kwargs={"tenant_slug": slug})


def detail(run: ImportRun, name: str = "settings-import-detail") -> str:
    return reverse(name, kwargs={"tenant_slug": run.tenant.slug, "pk": run.pk})


def upload(tmp_path, rows: list[dict], name: str = "export.csv") -> SimpleUploadedFile:
    path = write_csv(tmp_path / name, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def form(file, **fields) -> dict:
    return {"file": file, "format": "servicenow-eventlog", "time_zone": "UTC", **fields}


def test_the_settings_home_offers_imports(people, login):
    answer = login(people.ada).get(reverse("settings-home", kwargs={"tenant_slug": "acme"}))
    assert page().encode() in answer.content


def test_the_admin_uploads_a_file_and_reads_its_report(
    people, login, tmp_path, django_capture_on_commit_callbacks
):
    rows = [without_line(r) for n in ("INC0000045", "INC0000130") for r in histories()[n]]
    rows.append(source_row("INC9", "Pending", 0, "01-03-2016 10:00"))  # line 12: reported
    client = login(people.ada)
    with django_capture_on_commit_callbacks(execute=True):  # the Celery task, eager here
        answer = client.post(page(), form(upload(tmp_path, rows), adopt_matrix="on"))
    run = ImportRun.objects.for_tenant(people.acme).get()
    assert answer.status_code == 302 and answer.url == detail(run)
    report = client.get(answer.url).content.decode()
    assert run.state == RunState.DONE and run.created_by == people.ada
    assert 'data-testid="incidents-imported">2<' in report
    assert f'data-testid="events-imported">{run.events_created}<' in report
    assert 'data-testid="disagreements">0<' in report
    assert "incident_state &#x27;Pending&#x27; is not a ServiceNow state" in report
    assert "<td>12</td>" in report
    assert "settings/imports/" + str(run.pk) + "/progress/" not in report  # done: no polling
    assert Incident.objects.for_tenant(people.acme).filter(source_number="INC0000130").exists()


def test_a_file_of_another_shape_is_refused_on_the_form_and_nothing_is_written(
    people, login, tmp_path
):
    other = SimpleUploadedFile("tickets.csv", b"id,title,status\n1,Printer,open\n")
    answer = login(people.ada).post(page(), form(other, time_zone="Europe/Paris"))
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "This is not a ServiceNow incident event log" in html
    assert 'value="Europe/Paris"' in html  # what the admin typed is kept
    assert not ImportRun.objects.exists() and not Incident.objects.exists()


def test_an_unknown_time_zone_is_refused_on_its_field(people, login, tmp_path):
    file = upload(tmp_path, [source_row("INC1", "New", 0, "01-03-2016 10:00")])
    answer = login(people.ada).post(page(), form(file, time_zone="Mars/Olympus"))
    assert "is not a time zone" in answer.content.decode()
    assert not ImportRun.objects.exists()


def test_a_second_import_waits_for_the_first(people, login, tmp_path):
    ImportRun.objects.create(tenant=people.acme, format="servicenow-eventlog", source_name="a")
    file = upload(tmp_path, [source_row("INC1", "New", 0, "01-03-2016 10:00")])
    answer = login(people.ada).post(page(), form(file))
    assert "An import is still running" in answer.content.decode()
    assert ImportRun.objects.count() == 1


def test_the_progress_part_shows_the_runs_counts_and_polls_while_it_runs(people, login):
    run = running_run(people.acme, rows=(100, 400), incidents=(20, 80))
    part = login(people.ada).get(detail(run, "settings-import-progress")).content.decode()
    assert 'data-testid="import-percent">25<' in part
    assert 'value="25" max="100"' in part
    assert 'hx-trigger="every 1s"' in part
    assert "20 of 80 incidents" in part


def test_the_page_lists_recent_runs_in_fixed_queries(people, login, django_assert_max_num_queries):
    client = login(people.ada)
    for n in range(30):
        ImportRun.objects.create(
            tenant=people.acme, format="servicenow-eventlog", source_name=f"f{n}.csv",
            state=RunState.DONE, created_by=people.ada,
        )  # fmt: skip
    with django_assert_max_num_queries(8):
        answer = client.get(page())
    assert answer.content.decode().count("settings/imports/") >= 20


@pytest.mark.parametrize("who", ["alice", "max", "rita", "charlie"])
def test_only_the_tenants_admins_see_imports(people, login, who):
    run = ImportRun.objects.create(
        tenant=people.acme, format="servicenow-eventlog", source_name="a.csv"
    )
    client = login(getattr(people, who))
    for url in (page(), detail(run), detail(run, "settings-import-progress")):
        assert client.get(url).status_code == 404, url
    assert client.post(page(), {}).status_code == 404


def test_another_tenants_run_is_a_404_for_an_admin_here(people, login):
    theirs = ImportRun.objects.create(
        tenant=people.globex, format="servicenow-eventlog", source_name="theirs.csv"
    )
    url = reverse("settings-import-detail", kwargs={"tenant_slug": "acme", "pk": theirs.pk})
    assert login(people.ada).get(url).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(people, client):
    answer = client.get(page())
    assert answer.status_code == 302 and "login" in answer.url


def test_the_desk_search_finds_an_imported_incident_by_its_source_number(
    people, login, tmp_path, import_file
):
    rows = [
        source_row("INC0000999", "New", 0, "01-03-2016 09:00"),
        source_row("INC0000999", "Active", 1, "01-03-2016 10:00", assigned_to="Resolver 3"),
        source_row("INC0001000", "New", 0, "01-03-2016 09:30"),
    ]
    import_file(write_csv(tmp_path / "open.csv", rows), tenant="acme")
    ours = Incident.objects.get(tenant=people.acme, source_number="INC0000999")
    queue = reverse("desk-queue", kwargs={"tenant_slug": "acme"})
    html = login(people.alice).get(queue, {"queue": "open", "q": "INC0000999"}).content.decode()
    assert row_numbers(html) == [ours.number]
