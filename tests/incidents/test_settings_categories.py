"""Categories and their routing rule: the config services and the admin's pages."""

import pytest

from incidents.models import Category
from incidents.services import config
from tenancy.errors import InvalidInput, NotAllowed
from tests.factories import CategoryFactory, GroupFactory
from tests.incidents.settings_support import input_value, page_text, report, url


def fresh(category):
    return Category.objects.get(pk=category.pk)


# --- services -----------------------------------------------------------------------------


def test_a_category_routed_to_a_group_escalates_its_incidents_there(people):
    hardware = GroupFactory(tenant=people.acme, name="Hardware")
    printers = config.category_create(
        actor=people.actor(people.ada), name="Printers", group=hardware
    )
    assert (printers.slug, printers.tenant) == ("printers", people.acme)
    incident = report(people.actor(people.rita), category=fresh(printers))
    assert (incident.state, incident.group) == ("escalated", hardware)


def test_a_category_without_a_rule_leaves_incidents_unassigned(people):
    other = config.category_create(actor=people.actor(people.ada), name="Other")
    incident = report(people.actor(people.rita), category=fresh(other))
    assert (incident.state, incident.group) == ("reported", None)


def test_routing_to_another_tenants_group_is_refused(people):
    theirs = GroupFactory(tenant=people.globex, name="Globex desk")
    with pytest.raises(InvalidInput) as refusal:
        config.category_create(actor=people.actor(people.ada), name="Sneaky", group=theirs)
    assert refusal.value.field == "group"
    assert not Category.objects.filter(name="Sneaky").exists()


def test_a_new_rule_to_an_inactive_group_is_refused_but_an_old_one_may_stay(people):
    retired = GroupFactory(tenant=people.acme, name="Retired", is_active=False)
    ada = people.actor(people.ada)
    with pytest.raises(InvalidInput) as refusal:
        config.category_update(
            actor=ada, category=people.network, name="Network", slug="network", group=retired
        )
    assert "Retired is inactive" in refusal.value.message
    people.group.is_active = False
    people.group.save()
    kept = config.category_update(
        actor=ada, category=people.network, name="Networking", slug="network", group=people.group
    )
    assert (fresh(kept).name, fresh(kept).group) == ("Networking", people.group)


def test_a_category_slug_clash_is_a_field_error(people):
    with pytest.raises(InvalidInput) as refusal:
        config.category_create(actor=people.actor(people.ada), name="Net", slug="network")
    assert refusal.value.field == "slug"


def test_only_an_admin_changes_categories(people):
    with pytest.raises(NotAllowed):
        config.category_deactivate(actor=people.actor(people.max), category=people.network)
    assert fresh(people.network).is_active


def test_an_admin_of_another_tenant_cannot_deactivate_our_category(people):
    from tenancy.models import Membership, Role
    from tests.factories import UserFactory

    gadmin = UserFactory(email="gadmin@globex.test")
    Membership.objects.create(tenant=people.globex, user=gadmin, role=Role.ADMIN)
    with pytest.raises(InvalidInput):
        config.category_deactivate(
            actor=people.actor(gadmin, people.globex), category=people.network
        )
    assert fresh(people.network).is_active


def test_a_deactivated_category_is_no_longer_offered_but_incidents_keep_it(people):
    rita = people.actor(people.rita)
    earlier = report(rita, category=fresh(people.network))
    config.category_deactivate(actor=people.actor(people.ada), category=people.network)
    earlier.refresh_from_db()
    assert earlier.category == people.network
    with pytest.raises(InvalidInput) as refusal:
        report(rita, category=fresh(people.network))
    assert refusal.value.field == "category"
    config.category_reactivate(actor=people.actor(people.ada), category=people.network)
    assert report(rita, category=fresh(people.network)).group == people.group


# --- pages --------------------------------------------------------------------------------


def test_the_admin_creates_a_routed_category_from_the_page(people, login):
    client = login(people.ada)
    response = client.post(
        url("settings-category-create"),
        {"name": "VPN", "slug": "", "group": str(people.group.pk)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url("settings-categories")
    vpn = Category.objects.for_tenant(people.acme).get(slug="vpn")
    assert vpn.group == people.group
    assert "Saved VPN." in page_text(response)
    assert "VPN vpn Service Desk Active" in page_text(response)


def test_a_refused_category_keeps_what_the_admin_typed(people, login):
    client = login(people.ada)
    response = client.post(
        url("settings-category-create"),
        {"name": "Networking", "slug": "network", "group": str(people.group.pk)},
    )
    assert response.status_code == 200
    assert "Another category already uses the slug “network”." in page_text(response)
    assert input_value(response, "name") == "Networking"
    assert input_value(response, "slug") == "network"
    assert input_value(response, "group") == str(people.group.pk)


def test_the_route_offers_only_this_tenants_active_groups(people, login):
    GroupFactory(tenant=people.globex, name="Globex desk")
    GroupFactory(tenant=people.acme, name="Retired team", is_active=False)
    text = page_text(login(people.ada).get(url("settings-category-create")))
    assert "Service Desk" in text
    assert "Globex desk" not in text and "Retired team" not in text


def test_the_admin_reroutes_a_category(people, login):
    hardware = GroupFactory(tenant=people.acme, name="Hardware")
    client = login(people.ada)
    edit = url("settings-category-edit", people.network.pk)
    assert input_value(client.get(edit), "group") == str(people.group.pk)
    response = client.post(edit, {"name": "Network", "slug": "network", "group": str(hardware.pk)})
    assert response.status_code == 302
    assert report(people.actor(people.rita), category=fresh(people.network)).group == hardware


def test_the_admin_removes_a_categorys_rule(people, login):
    edit = url("settings-category-edit", people.network.pk)
    login(people.ada).post(edit, {"name": "Network", "slug": "network", "group": ""})
    incident = report(people.actor(people.rita), category=fresh(people.network))
    assert (incident.state, incident.group) == ("reported", None)


def test_the_admin_deactivates_and_reactivates_a_category(people, login):
    client = login(people.ada)
    response = client.post(url("settings-category-deactivate", people.network.pk), follow=True)
    assert not fresh(people.network).is_active
    assert "Network is deactivated: no longer offered." in page_text(response)
    assert "Network network Service Desk Inactive Reactivate" in page_text(response)
    client.post(url("settings-category-reactivate", people.network.pk))
    assert fresh(people.network).is_active


def test_the_list_warns_when_a_rule_points_to_an_inactive_group(people, login):
    people.group.is_active = False
    people.group.save()
    text = page_text(login(people.ada).get(url("settings-categories")))
    assert "Service Desk (group inactive: incidents wait in Unassigned)" in text


def test_the_category_list_runs_a_fixed_number_of_queries(
    people, login, django_assert_max_num_queries
):
    client = login(people.ada)
    client.get(url("settings-categories"))
    for n in range(40):
        CategoryFactory(tenant=people.acme, name=f"Cat {n:02}", group=people.group)
    with django_assert_max_num_queries(5):
        response = client.get(url("settings-categories"))
    assert page_text(response).count("Service Desk Active") == 41
