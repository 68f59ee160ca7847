"""An admin resets the second factors of a member who lost them: asked to confirm, recorded in
the audit log (of every organisation of the person), after which the person signs in with their
password and enrols again where required. Another tenant's admin gets 404."""

from __future__ import annotations

import pytest
from django.test import Client

from tenancy.mfa import services
from tenancy.mfa.services import membership_mfa_reset
from tenancy.models import AuditRecord, Membership, Role
from tests.factories import PASSWORD
from tests.tenancy.mfa_support import SoftPasskey, enrol
from tests.tenancy.test_mfa_passkeys import register


def browser_of(email: str) -> Client:
    client = Client()
    assert client.login(email=email, password=PASSWORD)
    return client


@pytest.fixture
def alice_membership(people) -> Membership:
    return Membership.objects.get(tenant=people.acme, user=people.alice)


def test_an_admin_resets_a_members_factors_after_confirming(people, alice_membership, audit):
    enrol(people.alice)
    services.recovery_codes_generate(user=people.alice)
    admin = browser_of("ada@acme.test")
    members = admin.get("/t/acme/settings/members/").content.decode()
    assert "Reset two-factor of Alice Agent" in members
    url = f"/t/acme/settings/members/{alice_membership.pk}/two-factor-reset/"
    confirm = admin.get(url).content.decode()
    assert "Reset the two-factor sign-in of Alice Agent?" in confirm
    assert services.has_second_factor(people.alice)  # asking changed nothing
    done = admin.post(url, follow=True).content.decode()
    assert "The second factors of Alice Agent are removed" in done
    assert not services.has_second_factor(people.alice)
    assert services.recovery_codes_left(people.alice) == 0
    record = audit()[-1]
    assert record.action == "member.mfa_reset" and record.actor_name == "Ada Admin"
    assert record.before == {"second_factors": ["authenticator app “Phone”", "10 recovery codes"]}


def test_after_the_reset_the_password_alone_signs_in(client, people, alice_membership):
    enrol(people.alice)
    membership_mfa_reset(actor=people.actor(people.ada), membership=alice_membership)
    client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert client.session["_auth_user_id"] == str(people.alice.pk)


def test_after_the_reset_a_required_factor_is_set_up_again(client, people, alice_membership):
    people.acme.mfa_required = True
    people.acme.save()
    enrol(people.alice)
    membership_mfa_reset(actor=people.actor(people.ada), membership=alice_membership)
    client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert client.get("/t/acme/desk/")["Location"].startswith("/account/two-factor/")


def test_the_reset_is_told_to_the_persons_other_organisations(people, alice_membership):
    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.AGENT)
    enrol(people.alice)
    browser_of("ada@acme.test").post(
        f"/t/acme/settings/members/{alice_membership.pk}/two-factor-reset/"
    )
    told = AuditRecord.objects.get(tenant=people.globex, action="member.mfa_reset")
    assert told.actor_kind == "system"
    assert told.after == {"reset_by": "Ada Admin (Acme Corporation)"}


def test_passkeys_are_reset_too(people, alice_membership):
    register(browser_of("alice@acme.test"), SoftPasskey(), "Laptop")
    assert services.passkeys(people.alice).count() == 1
    browser_of("ada@acme.test").post(
        f"/t/acme/settings/members/{alice_membership.pk}/two-factor-reset/"
    )
    assert not services.passkeys(people.alice).exists()


def test_another_tenants_admin_gets_404(people, alice_membership):
    Membership.objects.filter(user=people.charlie).update(role=Role.ADMIN)
    enrol(people.alice)
    stranger = browser_of("charlie@globex.test")
    url = f"/t/globex/settings/members/{alice_membership.pk}/two-factor-reset/"
    assert stranger.get(url).status_code == 404
    assert stranger.post(url).status_code == 404
    in_acme = f"/t/acme/settings/members/{alice_membership.pk}/two-factor-reset/"
    assert stranger.post(in_acme).status_code == 404
    assert services.has_second_factor(people.alice)


def test_an_agent_cannot_reset(people, alice_membership):
    enrol(people.alice)
    bob = browser_of("bob@acme.test")
    url = f"/t/acme/settings/members/{alice_membership.pk}/two-factor-reset/"
    assert bob.post(url).status_code == 404
    assert services.has_second_factor(people.alice)
