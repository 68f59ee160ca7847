"""Assignment groups: the config services and the admin's pages."""

import pytest

from incidents.models import AssignmentGroup, Category, GroupMember
from incidents.services import config
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import Membership, Role
from tests.factories import GroupFactory, UserFactory, add_to_group
from tests.incidents.settings_support import checked_values, input_value, page_text, report, url


def members_of(group):
    return set(GroupMember.objects.filter(group=group).values_list("user__email", flat=True))


def _form(people, **overrides):
    data = {
        "name": "Network team",
        "slug": "",
        "description": "Routers, VPN and Wi-Fi.",
        "lead": str(people.max.pk),
        "members": [str(people.alice.pk), str(people.max.pk)],
        "auto_assign": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- services -----------------------------------------------------------------------------


def test_an_admin_creates_a_group_with_a_lead_and_members(people):
    group = config.group_create(
        actor=people.actor(people.ada),
        name="  Network team ",
        lead=people.max,
        members=[people.alice, people.max],
        auto_assign=True,
    )
    group.refresh_from_db()
    assert (group.tenant, group.name, group.slug) == (people.acme, "Network team", "network-team")
    assert group.lead == people.max and group.auto_assign and group.is_active
    assert members_of(group) == {"alice@acme.test", "max@acme.test"}


def test_a_slug_already_used_in_the_tenant_is_a_field_error(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="Desk", slug="service-desk")
    assert refusal.value.field == "slug"
    assert "service-desk" in refusal.value.message


def test_the_same_slug_in_another_tenant_is_fine(people):
    GroupFactory(tenant=people.globex, slug="network-team")
    group = config.group_create(actor=people.actor(people.ada), name="Network team")
    assert group.slug == "network-team"


def test_a_slug_with_spaces_is_refused(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="Desk", slug="the desk")
    assert refusal.value.field == "slug"


def test_a_lead_from_another_tenant_is_refused(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="Mixed", lead=people.charlie)
    assert refusal.value.field == "lead"
    assert not AssignmentGroup.objects.filter(name="Mixed").exists()


def test_a_member_from_another_tenant_is_refused(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_update(
            actor=people.actor(people.ada),
            group=people.group,
            name="Service Desk",
            slug="service-desk",
            description="",
            lead=None,
            members=[people.alice, people.charlie],
            auto_assign=False,
            is_active=True,
        )
    assert refusal.value.field == "members"
    assert "charlie@globex.test" in refusal.value.message
    assert members_of(people.group) == {"alice@acme.test", "bob@acme.test"}


def test_a_requester_cannot_join_a_group(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="Odd", members=[people.rita])
    assert refusal.value.field == "members"


def test_a_deactivated_member_cannot_lead_a_group(people):
    Membership.objects.filter(user=people.bob).update(is_active=False)
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="Odd", lead=people.bob)
    assert refusal.value.field == "lead"


@pytest.mark.parametrize("who", ["max", "alice", "rita"])
def test_only_an_admin_may_create_a_group(people, who):
    with pytest.raises(NotAllowed):
        config.group_create(actor=people.actor(getattr(people, who)), name="Shadow IT")


def test_an_admin_of_another_tenant_cannot_change_our_group(people):
    globex_admin = UserFactory(email="gadmin@globex.test")
    Membership.objects.create(tenant=people.globex, user=globex_admin, role=Role.ADMIN)
    with pytest.raises(InvalidInput):
        config.group_update(
            actor=people.actor(globex_admin, people.globex),
            group=people.group,
            name="Hijacked",
            slug="hijacked",
            description="",
            lead=None,
            members=[],
            auto_assign=False,
            is_active=True,
        )
    assert AssignmentGroup.objects.get(pk=people.group.pk).name == "Service Desk"


def test_updating_members_adds_and_removes_them(people):
    group = config.group_update(
        actor=people.actor(people.ada),
        group=people.group,
        name="Service Desk",
        slug="service-desk",
        description="First line.",
        lead=people.bob,
        members=[people.bob, people.max],
        auto_assign=False,
        is_active=True,
    )
    assert members_of(group) == {"bob@acme.test", "max@acme.test"}
    assert GroupMember.objects.get(group=group, user=people.max).tenant == people.acme


# --- pages --------------------------------------------------------------------------------


def test_the_admin_creates_a_group_from_the_page(people, login):
    client = login(people.ada)
    response = client.post(url("settings-group-create"), _form(people), follow=True)
    assert response.redirect_chain[-1][0] == url("settings-groups")
    group = AssignmentGroup.objects.for_tenant(people.acme).get(slug="network-team")
    assert group.lead == people.max and group.auto_assign and group.is_active
    assert members_of(group) == {"alice@acme.test", "max@acme.test"}
    text = page_text(response)
    assert "Saved Network team." in text
    assert "Network team network-team Max Manager Alice Agent, Max Manager On" in text


def test_a_refused_group_keeps_everything_the_admin_typed(people, login):
    client = login(people.ada)
    response = client.post(url("settings-group-create"), _form(people, slug="service-desk"))
    assert response.status_code == 200
    assert "Another group already uses the slug “service-desk”." in page_text(response)
    assert input_value(response, "name") == "Network team"
    assert input_value(response, "slug") == "service-desk"
    assert input_value(response, "description") == "Routers, VPN and Wi-Fi."
    assert input_value(response, "lead") == str(people.max.pk)
    assert checked_values(response, "members") == {str(people.alice.pk), str(people.max.pk)}
    assert checked_values(response, "auto_assign") == {"on"}
    assert AssignmentGroup.objects.for_tenant(people.acme).count() == 1


def test_a_group_without_a_name_is_refused_with_the_input_kept(people, login):
    client = login(people.ada)
    response = client.post(url("settings-group-create"), _form(people, name=""))
    assert response.status_code == 200
    assert "This field is required." in page_text(response)
    assert input_value(response, "description") == "Routers, VPN and Wi-Fi."


def test_the_group_form_offers_only_the_tenants_agents_managers_and_admins(people, login):
    response = login(people.ada).get(url("settings-group-create"))
    text = page_text(response)
    for offered in ("alice@acme.test", "bob@acme.test", "max@acme.test", "ada@acme.test"):
        assert offered in text
    assert "charlie@globex.test" not in text
    assert "rita@acme.test" not in text


def test_the_admin_edits_a_group_and_the_form_shows_its_values(people, login):
    client = login(people.ada)
    edit = url("settings-group-edit", people.group.pk)
    shown = client.get(edit)
    assert input_value(shown, "name") == "Service Desk"
    assert checked_values(shown, "members") == {str(people.alice.pk), str(people.bob.pk)}
    assert checked_values(shown, "is_active") == {"on"}
    data = _form(people, name="Service Desk", slug="service-desk", lead="", auto_assign=None)
    data["members"] = [str(people.bob.pk)]
    response = client.post(edit, data)
    assert response.status_code == 302
    people.group.refresh_from_db()
    assert people.group.lead is None and not people.group.auto_assign
    assert members_of(people.group) == {"bob@acme.test"}


def test_auto_assignment_switched_on_assigns_new_incidents(people, login):
    data = _form(people, name="Service Desk", slug="service-desk", lead="")
    data["members"] = [str(people.bob.pk)]
    login(people.ada).post(url("settings-group-edit", people.group.pk), data)
    network = Category.objects.get(pk=people.network.pk)  # as the portal would load it
    incident = report(people.actor(people.rita), category=network)
    assert (incident.state, incident.group, incident.assignee) == (
        "escalated",
        people.group,
        people.bob,
    )


def test_a_group_switched_off_gets_no_new_incidents(people, login):
    data = _form(people, name="Service Desk", slug="service-desk", is_active=None)
    login(people.ada).post(url("settings-group-edit", people.group.pk), data)
    network = Category.objects.get(pk=people.network.pk)
    incident = report(people.actor(people.rita), category=network)
    assert incident.state == "reported" and incident.group is None


def test_the_group_list_runs_a_fixed_number_of_queries(
    people, login, django_assert_max_num_queries
):
    client = login(people.ada)
    client.get(url("settings-groups"))  # warm the session
    for n in range(30):
        group = GroupFactory(tenant=people.acme, name=f"Team {n:02}", lead=people.max)
        add_to_group(group, people.alice, people.bob, people.max)
    with django_assert_max_num_queries(6):
        response = client.get(url("settings-groups"))
    text = page_text(response)
    assert "Team 29 group-" in text and "Alice Agent, Bob Agent, Max Manager" in text


def test_a_group_needs_a_name(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="   ")
    assert (refusal.value.field, refusal.value.message) == ("name", "Give the group a name.")


def test_a_name_too_long_is_refused_not_truncated(people):
    with pytest.raises(InvalidInput) as refusal:
        config.group_create(actor=people.actor(people.ada), name="N" * 101)
    assert refusal.value.message == "The name is limited to 100 characters."
