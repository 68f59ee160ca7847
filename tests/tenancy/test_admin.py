"""The Django admin lets platform operators see tenants and their members, by tenant."""

from __future__ import annotations

import pytest

from incidents.models import IncidentEvent, PriorityLevel, PriorityMatrixCell, ResolutionCode
from incidents.services import incident_report
from tenancy.models import Membership, Tenant, TenantCounter


@pytest.fixture
def operator(client, people):
    people.charlie.is_staff = people.charlie.is_superuser = True
    people.charlie.save()
    client.force_login(people.charlie)
    return client


def test_an_operator_lists_the_tenants(operator):
    body = operator.get("/admin/tenancy/tenant/").content.decode()
    assert "Acme Corporation" in body and "Globex Inc." in body


def test_memberships_are_filtered_by_tenant(operator, people):
    acme = operator.get(f"/admin/tenancy/membership/?tenant__id__exact={people.acme.pk}")
    body = acme.content.decode()
    assert acme.status_code == 200
    for name in ["Alice Agent", "Bob Agent", "Rita Requester", "Max Manager", "Ada Admin"]:
        assert name in body
    assert "Charlie Other" not in body
    globex = operator.get(f"/admin/tenancy/membership/?tenant__id__exact={people.globex.pk}")
    assert "Charlie Other" in globex.content.decode()
    assert "Alice Agent" not in globex.content.decode()


def test_users_are_filtered_by_tenant(operator, people):
    body = operator.get(
        f"/admin/tenancy/user/?memberships__tenant__id__exact={people.globex.pk}"
    ).content.decode()
    assert "charlie@globex.test" in body and "alice@acme.test" not in body


def test_creating_a_tenant_in_the_admin_installs_its_defaults(operator, people):
    form = {
        "slug": "initech",
        "name": "Initech",
        "time_zone": "Europe/Paris",
        "signup_domains": "initech.test",
        "confirmation_window_days": "5",
        "is_active": "on",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": str(people.ada.pk),
        "memberships-0-role": "admin",
        "memberships-0-is_active": "on",
    }
    response = operator.post("/admin/tenancy/tenant/add/", form)
    assert response.status_code == 302
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.signup_domain_list == ["initech.test"]
    assert tenant.confirmation_window_days == 5
    assert PriorityLevel.objects.for_tenant(tenant).count() == 3
    assert PriorityMatrixCell.objects.for_tenant(tenant).count() == 9
    assert ResolutionCode.objects.for_tenant(tenant).count() >= 6
    assert TenantCounter.objects.for_tenant(tenant).filter(name="incident").exists()
    assert Membership.objects.for_tenant(tenant).get(user=people.ada).role == "admin"


def test_the_admin_refuses_an_unknown_time_zone(operator):
    form = {
        "slug": "initech",
        "name": "Initech",
        "time_zone": "Mars/Olympus",
        "confirmation_window_days": "3",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = operator.post("/admin/tenancy/tenant/add/", form)
    assert response.status_code == 200
    assert "is not a time zone" in response.content.decode()
    assert not Tenant.objects.filter(slug="initech").exists()


def test_a_person_who_is_not_staff_cannot_use_the_admin(login, people):
    response = login(people.ada).get("/admin/tenancy/tenant/")
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Membership.objects.filter(user=people.ada).exists()


@pytest.mark.parametrize(
    "path",
    ["incidents/category", "incidents/assignmentgroup", "incidents/prioritylevel",
     "incidents/resolutioncode", "escalation/slapolicy", "escalation/businesscalendar",
     "escalation/escalationpolicy", "escalation/slaclock", "escalation/escalationrun",
     "escalation/slaalert", "incidents/incident", "incidents/incidentevent"],
)  # fmt: skip
def test_an_operator_reads_service_owned_rows_and_cannot_change_them(operator, people, path):
    """Changes go through the settings pages, the desk and the API: their services check them
    and take the locks that reports rely on; an admin save would bypass both."""
    listing = operator.get(f"/admin/{path}/")
    assert listing.status_code == 200
    assert operator.get(f"/admin/{path}/add/").status_code == 403


def test_an_operator_cannot_post_a_change_to_a_category(operator, people):
    category = people.network
    url = f"/admin/incidents/category/{category.pk}/change/"
    page = operator.get(url).content.decode()
    assert "Network" in page and 'name="_save"' not in page
    response = operator.post(url, {"name": "Renamed", "slug": "renamed", "tenant": people.acme.pk})
    assert response.status_code == 403
    category.refresh_from_db()
    assert category.name == "Network"
    assert operator.post(f"/admin/incidents/category/{category.pk}/delete/").status_code == 403


def test_an_operator_cannot_delete_an_incident_or_its_history(operator, people):
    incident = incident_report(actor=people.actor(people.rita), title="Printer jammed")
    event = IncidentEvent.objects.get(incident=incident)
    assert operator.get(f"/admin/incidents/incident/{incident.pk}/change/").status_code == 200
    for path in (f"incidents/incident/{incident.pk}", f"incidents/incidentevent/{event.pk}"):
        assert operator.post(f"/admin/{path}/delete/", {"post": "yes"}).status_code == 403
    assert IncidentEvent.objects.filter(pk=event.pk).exists()
