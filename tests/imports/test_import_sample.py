"""The real ServiceNow sample imports whole: every incident, the closed ones closed, the file's
priority matrix adopted with zero disagreements. Expected values come from the file itself."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils.text import slugify
from rest_framework.test import APIClient

from imports.models import ImportRun
from incidents.models import Incident, IncidentEvent, PriorityLevel, PriorityMatrixCell
from incidents.services.routing import auto_assignee
from tenancy.apikeys import api_key_create
from tenancy.models import Membership, Tenant, User
from tests.factories import GroupFactory, add_to_group
from tests.imports.conftest import SAMPLE, histories, run_command

LEVEL = {"1 - High": "high", "2 - Medium": "medium", "3 - Low": "low"}


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker):
    """The sample, imported once for the module inside a transaction rolled back at its end;
    each test's own changes roll back to this state."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = run_command(SAMPLE, "--create-tenant", "--adopt-source-matrix")
        tenant = Tenant.objects.get(slug="snow")
        yield tenant, ImportRun.objects.for_tenant(tenant).get(), output
        transaction.set_rollback(True)


def test_every_incident_of_the_sample_is_imported_and_the_closed_ones_are_closed(imported, db):
    tenant, run, output = imported
    expected = histories()
    closed = [n for n, rows in expected.items() if rows[-1]["incident_state"] == "Closed"]
    incidents = Incident.objects.for_tenant(tenant)
    assert run.state == "done"
    assert incidents.count() == len(expected) == run.incidents_created
    assert set(incidents.values_list("source_number", flat=True)) == set(expected)
    assert incidents.filter(state="closed").count() == len(closed)
    assert f"Incidents: {len(expected)} imported" in output


def test_every_row_of_the_file_is_one_event_at_its_own_time(imported, db):
    tenant, run, _ = imported
    rows = sum(len(r) for r in histories().values())
    events = IncidentEvent.objects.for_tenant(tenant).exclude(source_key="opened")
    per_row = events.exclude(source_key__endswith="/escalate")
    assert per_row.count() == rows
    assert run.rows_total == rows and run.rows_skipped == 0
    assert run.events_created == IncidentEvent.objects.for_tenant(tenant).count()


def test_the_files_matrix_is_adopted_with_the_missing_cell_from_servicenows_base(imported, db):
    tenant, run, output = imported
    source = {
        (LEVEL[r["impact"]], LEVEL[r["urgency"]]): slugify(r["priority"].split(" - ", 1)[1])
        for rows in histories().values()
        for r in rows
    }
    assert ("high", "low") not in source  # the sample never shows this cell
    cells = {
        (c.impact, c.urgency): c.level.slug
        for c in PriorityMatrixCell.objects.for_tenant(tenant).select_related("level")
    }
    assert {cell: cells[cell] for cell in source} == source
    assert cells[("high", "low")] == "moderate"  # ServiceNow: impact 1, urgency 3 -> 3 Moderate
    scale = PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank")
    assert list(scale.values_list("slug", flat=True)) == ["critical", "high", "moderate", "low"]
    assert run.report["filled_cells"] == [
        {"impact": "high", "urgency": "low", "priority": "3 - Moderate"}
    ]
    assert "high impact x low urgency -> 3 - Moderate" in output


def test_no_incident_disagrees_with_its_source_priority(imported, db):
    tenant, run, output = imported
    assert run.disagreements == 0
    assert "Priority disagreements (incidents): 0" in output
    final = {n: slugify(rows[-1]["priority"].split(" - ", 1)[1]) for n, rows in histories().items()}
    ours = dict(Incident.objects.for_tenant(tenant).values_list("source_number", "priority__slug"))
    assert ours == final


# docs/design.md's default matrix, which a new tenant starts with.
DEFAULT = {
    ("high", "high"): "high", ("high", "medium"): "high", ("high", "low"): "medium",
    ("medium", "high"): "high", ("medium", "medium"): "medium", ("medium", "low"): "low",
    ("low", "high"): "medium", ("low", "medium"): "low", ("low", "low"): "low",
}  # fmt: skip


def test_without_adopting_the_matrix_the_report_counts_the_disagreements(db, import_file):
    """The default matrix says medium x medium is 'medium'; the source said '3 - Moderate'."""
    output = import_file(SAMPLE, "--create-tenant", tenant="plain")
    run = ImportRun.objects.get(tenant__slug="plain")

    def differs(row: dict) -> bool:
        ours = DEFAULT[(LEVEL[row["impact"]], LEVEL[row["urgency"]])]
        return ours != slugify(row["priority"].split(" - ", 1)[1])

    differing = [n for n, rows in histories().items() if any(map(differs, rows))]
    assert len(differing) > 500  # most rows are medium x medium, 3 - Moderate there
    assert run.disagreements == len(differing)
    assert f"Priority disagreements (incidents): {len(differing)}" in output
    assert {d["number"] for d in run.report["disagreements"]} <= set(differing)


def test_people_from_the_source_are_inactive_members_who_cannot_log_in(imported, db, client):
    tenant, _, _ = imported
    resolver = User.objects.get(full_name="Resolver 198", email__endswith=".invalid")
    membership = Membership.objects.for_tenant(tenant).get(user=resolver)
    assert not resolver.is_active and not resolver.has_usable_password()
    assert not membership.is_active and membership.role == "agent"
    assert not client.login(email=resolver.email, password="")
    assert Incident.objects.for_tenant(tenant).filter(assignee=resolver).exists()


def test_an_imported_resolver_is_never_auto_assigned(imported, db):
    tenant, _, _ = imported
    resolver = User.objects.get(full_name="Resolver 198", email__endswith=".invalid")
    # A slug of its own: the factory's group-<n> can be one the import made (Group 56).
    group = GroupFactory(tenant=tenant, name="Auto", slug="auto-assigning", auto_assign=True)
    add_to_group(group, resolver)
    assert auto_assignee(group) is None


def test_the_caller_is_an_external_contact_and_the_close_code_a_resolution_code(imported, db):
    tenant, _, _ = imported
    first = histories()["INC0000045"][0]
    incident = (
        Incident.objects.for_tenant(tenant)
        .select_related("resolution_code", "category", "group")
        .get(source_number="INC0000045")
    )
    assert incident.reporter is None and incident.contact_name == first["caller_id"]
    assert incident.resolution_code.label == first["closed_code"]
    assert "Imported from ServiceNow" in incident.resolution_notes
    assert incident.category.name == first["category"]
    assert incident.group.name == first["assignment_group"]


def test_the_source_number_finds_the_incident_through_the_api(imported, db):
    tenant, _, _ = imported
    _, secret = api_key_create(tenant=tenant, name="search", scopes=["read"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    found = api.get("/api/v1/incidents/", {"q": "inc0000045"}).json()["results"]
    assert [i["source_number"] for i in found] == ["INC0000045"]
