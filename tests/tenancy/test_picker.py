"""The tenant picker at / and the tenant home."""

from __future__ import annotations

from tenancy.models import Membership, Role
from tenancy.services import membership_add
from tests.factories import PASSWORD


def test_one_organisation_goes_straight_to_its_home(login, people):
    response = login(people.rita).get("/", follow=True)
    assert response.redirect_chain == [("/t/acme/", 302)]
    body = response.content.decode()
    assert "<h1>Acme Corporation</h1>" in body
    assert "Report an incident" in body and "Open the desk" not in body


def test_several_organisations_are_offered_to_pick(login, people):
    membership_add(tenant=people.globex, user=people.alice, role=Role.REQUESTER)
    body = login(people.alice).get("/").content.decode()
    assert "Choose an organisation" in body
    assert 'href="/t/acme/">Acme Corporation</a> <span class="muted">as agent' in body
    assert 'href="/t/globex/">Globex Inc.</a> <span class="muted">as requester' in body


def test_a_deactivated_organisation_is_not_offered(login, people):
    membership_add(tenant=people.globex, user=people.alice, role=Role.REQUESTER)
    Membership.objects.filter(user=people.alice, tenant=people.globex).update(is_active=False)
    response = login(people.alice).get("/")
    assert response.url == "/t/acme/"


def test_a_platform_operator_without_organisations_is_pointed_to_the_admin(client, people):
    people.charlie.is_staff = True
    people.charlie.save()
    Membership.objects.filter(user=people.charlie).delete()
    client.force_login(people.charlie)
    body = client.get("/").content.decode()
    assert "You are not a member of any organisation" in body
    assert 'href="/admin/"' in body


def test_the_tenant_home_shows_the_admin_the_settings(login, people):
    body = login(people.ada).get("/t/acme/").content.decode()
    assert 'href="/t/acme/settings/"' in body and "Open the desk" in body


def test_a_manager_of_one_organisation_lands_on_the_dashboard(client, people):
    response = client.post(
        "/login/",
        {"username": "max@acme.test", "password": PASSWORD},
        follow=True,
    )
    assert [url for url, _ in response.redirect_chain] == ["/t/acme/dashboards/"]
