"""Signing in through the tenant's provider, a real OpenID provider on loopback: the log-in page
sends a claimed domain there, the first sign-in provisions the member, the groups give the role."""

from __future__ import annotations

import pytest

from tenancy.models import Membership, Role, User
from tests.factories import PASSWORD
from tests.sso.oidc import continue_url, sign_in_at_provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_the_login_page_sends_a_claimed_domain_to_the_provider_without_a_password(
    client, acme_sso, oidc_provider
):
    page = client.post("/login/", {"username": "pat@acme.test", "password": ""})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Taking you to Acme Corporation's sign-in" in text
    assert f'href="{oidc_provider.issuer}/auth?' in text
    assert "login_hint=pat%40acme.test" in text
    assert "code_challenge_method=S256" in text
    assert "nonce=" in text and "state=" in text
    assert "_auth_user_id" not in client.session


def test_a_first_sign_in_provisions_a_requester_and_lands_in_the_portal(
    client, acme_sso, sso_login, audit, people
):
    answer, _ = sso_login("pat@acme.test")
    assert answer.status_code == 302
    assert answer["Location"] == "/t/acme/portal/"
    user = User.objects.get(email="pat@acme.test")
    assert not user.has_usable_password()
    membership = Membership.objects.get(tenant=people.acme, user=user)
    assert membership.role == Role.REQUESTER and membership.is_active
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["desk_auth_method"] == "sso"
    actions = [r.action for r in audit()]
    assert "sso.member_provisioned" in actions and "sso.signin_succeeded" in actions


def test_groups_map_to_the_highest_role_and_the_agent_lands_on_the_queue(
    acme_sso, sso_login, people
):
    acme_sso(group_roles={"helpdesk": Role.AGENT, "staff": Role.REQUESTER})
    answer, _ = sso_login("sam@acme.test", "sam@acme.test;staff,helpdesk")
    assert answer["Location"] == "/t/acme/desk/"
    assert Membership.objects.get(user__email="sam@acme.test").role == Role.AGENT


def test_an_existing_members_role_follows_the_groups_when_the_tenant_says_so(
    acme_sso, sso_login, people, audit
):
    acme_sso(group_roles={"managers": Role.MANAGER}, sync_roles=True)
    sso_login("alice@acme.test", "alice@acme.test;managers")
    alice = Membership.objects.get(tenant=people.acme, user=people.alice)
    assert alice.role == Role.MANAGER
    changed = [r for r in audit() if r.action == "sso.role_changed"]
    assert changed[0].before == {"role": "Agent"} and changed[0].after["role"] == "Manager"


def test_roles_stay_as_the_desk_set_them_without_role_sync(acme_sso, sso_login, people):
    acme_sso(group_roles={"managers": Role.MANAGER}, sync_roles=False)
    answer, _ = sso_login("alice@acme.test", "alice@acme.test;managers")
    assert answer.status_code == 302
    assert Membership.objects.get(tenant=people.acme, user=people.alice).role == Role.AGENT


def test_a_deactivated_member_cannot_sign_in_through_sso(
    client, acme_sso, sso_login, people, audit
):
    Membership.objects.filter(tenant=people.acme, user=people.rita).update(is_active=False)
    answer, _ = sso_login("rita@acme.test")
    assert answer.status_code == 403
    assert "has been deactivated in this organisation" in answer.content.decode()
    assert "_auth_user_id" not in client.session
    failed = [r for r in audit() if r.action == "sso.signin_failed"]
    assert "deactivated" in failed[0].after["reason"]


def test_an_inactive_account_cannot_sign_in_through_sso(client, acme_sso, sso_login, people):
    User.objects.filter(pk=people.rita.pk).update(is_active=False)
    answer, _ = sso_login("rita@acme.test")
    assert answer.status_code == 403
    assert "_auth_user_id" not in client.session


def test_an_address_outside_the_claimed_domains_is_refused(client, acme_sso, sso_login, people):
    answer, _ = sso_login("pat@acme.test", "charlie@globex.test")
    assert answer.status_code == 403
    assert "outside the domains" in answer.content.decode()
    assert "_auth_user_id" not in client.session


def test_other_addresses_keep_the_password_log_in(client, acme_sso, people):
    answer = client.post("/login/", {"username": "charlie@globex.test", "password": PASSWORD})
    assert answer.status_code == 302
    answer = client.post("/login/", {"username": "nobody@globex.test", "password": ""})
    assert "Type your password as well" in answer.content.decode()


def test_a_claimed_domain_with_sso_turned_off_keeps_the_password_log_in(client, acme_sso, people):
    acme_sso(enabled=False)
    answer = client.post("/login/", {"username": "rita@acme.test", "password": ""})
    assert "Taking you to" not in answer.content.decode()


def test_an_account_of_another_organisation_only_is_not_joined_by_sso(
    client, acme_sso, sso_login, people
):
    stranger = User.objects.create_user("gus@acme.test", password=PASSWORD)
    Membership.objects.create(tenant=people.globex, user=stranger, role=Role.AGENT)
    answer, _ = sso_login("gus@acme.test")
    assert answer.status_code == 403
    assert "through another organisation; ask your admin to invite it" in answer.content.decode()
    assert not Membership.objects.filter(tenant=people.acme, user=stranger).exists()
    assert "_auth_user_id" not in client.session


def test_a_platform_operator_never_signs_in_through_a_tenants_provider(client, acme_sso, sso_login):
    User.objects.create_user("root@acme.test", password=PASSWORD, is_staff=True)
    answer, _ = sso_login("root@acme.test")
    assert answer.status_code == 403
    assert "_auth_user_id" not in client.session


def test_role_sync_never_demotes_the_last_admin(acme_sso, sso_login, people, audit):
    acme_sso(sync_roles=True)  # no groups mapped: everyone's role would be requester
    answer, _ = sso_login("ada@acme.test")
    assert answer["Location"] == "/t/acme/desk/"
    assert Membership.objects.get(tenant=people.acme, user=people.ada).role == Role.ADMIN
    assert not [r for r in audit() if r.action == "sso.role_changed"]


def test_a_next_page_from_a_link_wins_over_the_landing_page(client, acme_sso, oidc_provider):
    page = client.post(
        "/login/?next=/t/acme/portal/report/", {"username": "pat@acme.test", "password": ""}
    )
    callback = sign_in_at_provider(continue_url(page.content.decode()), "pat@acme.test")
    assert client.get(callback)["Location"] == "/t/acme/portal/report/"


def test_an_address_with_a_nul_character_is_an_ordinary_failed_log_in(client, acme_sso):
    answer = client.post("/login/", {"username": "pat@acme.test\x00", "password": ""})
    assert answer.status_code == 200
    assert "_auth_user_id" not in client.session
