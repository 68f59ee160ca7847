"""Every change to people, invitations, tenant settings and API keys, and every sign-in,
failed sign-in, sign-out, lockout and password reset, leaves one audit record in the tenant it
concerns (tenancy/audit.py), written in the change's transaction: a refused change leaves none."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from tenancy import services
from tenancy.apikeys import api_key_create, api_key_revoke
from tenancy.errors import InvalidInput, LinkRefused, NotAllowed
from tenancy.links import SignupClaim
from tenancy.models import AuditRecord, Membership, Role, User
from tests.factories import PASSWORD
from tests.tenancy.conftest import link_path

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-orchard-river-31"


def acme_records(people, action: str | None = None) -> list[AuditRecord]:
    records = AuditRecord.objects.for_tenant(people.acme).order_by("id")
    return list(records.filter(action=action) if action else records)


def the_one_record(people) -> AuditRecord:
    records = acme_records(people)
    assert len(records) == 1, [r.action for r in records]
    return records[0]


def membership_of(user: User, people) -> Membership:
    return Membership.objects.select_related("user", "tenant").get(user=user, tenant=people.acme)


def assert_by_ada(record: AuditRecord, people) -> None:
    assert (record.actor_kind, record.actor_user_id, record.actor_name) == (
        "member",
        people.ada.pk,
        "Ada Admin",
    )


# --- People and roles -------------------------------------------------------------------------


def test_changing_a_role_records_the_role_before_and_after(people):
    alice = membership_of(people.alice, people)
    services.membership_set_role(actor=people.actor(people.ada), membership=alice, role="manager")
    record = the_one_record(people)
    assert record.action == "member.role_changed"
    assert_by_ada(record, people)
    assert (record.target_type, record.target_id, record.target_label) == (
        "membership",
        str(alice.pk),
        "Alice Agent",
    )
    assert (record.before, record.after) == ({"role": "Agent"}, {"role": "Manager"})


def test_setting_the_role_a_member_already_has_records_nothing(people):
    alice = membership_of(people.alice, people)
    services.membership_set_role(actor=people.actor(people.ada), membership=alice, role="agent")
    assert acme_records(people) == []


def test_a_refused_role_change_records_nothing(people):
    ada = membership_of(people.ada, people)
    with pytest.raises(NotAllowed):  # the last admin
        services.membership_set_role(actor=people.actor(people.ada), membership=ada, role="agent")
    with pytest.raises(NotAllowed):  # not an admin
        services.membership_set_role(
            actor=people.actor(people.max),
            membership=membership_of(people.bob, people),
            role="admin",
        )
    with pytest.raises(InvalidInput):
        services.membership_set_role(
            actor=people.actor(people.ada),
            membership=membership_of(people.bob, people),
            role="boss",
        )
    assert acme_records(people) == []


def test_a_member_leaving_is_one_deactivation_record(people):
    bob = membership_of(people.bob, people)
    services.member_leave(actor=people.actor(people.ada), membership=bob)
    record = the_one_record(people)
    assert record.action == "member.deactivated"
    assert_by_ada(record, people)
    assert (record.target_label, record.before, record.after) == (
        "Bob Agent",
        {"status": "active"},
        {"status": "deactivated"},
    )


def test_deactivating_then_reactivating_records_each(people):
    rita = membership_of(people.rita, people)
    services.membership_deactivate(actor=people.actor(people.ada), membership=rita)
    services.membership_deactivate(actor=people.actor(people.ada), membership=rita)  # no change
    services.membership_reactivate(actor=people.actor(people.ada), membership=rita)
    services.membership_reactivate(actor=people.actor(people.ada), membership=rita)  # no change
    deactivated, reactivated = acme_records(people)
    assert deactivated.action == "member.deactivated"
    assert (reactivated.action, reactivated.target_id) == ("member.reactivated", str(rita.pk))
    assert (reactivated.before, reactivated.after) == (
        {"status": "deactivated"},
        {"status": "active"},
    )


def test_deactivating_the_last_admin_is_refused_and_records_nothing(people):
    with pytest.raises(NotAllowed):
        services.member_leave(
            actor=people.actor(people.ada), membership=membership_of(people.ada, people)
        )
    assert acme_records(people) == []


def test_lifting_a_lockout_records_it_and_an_unlocked_member_records_nothing(client, people):
    rita = membership_of(people.rita, people)
    services.membership_lockout_lift(actor=people.actor(people.ada), membership=rita)
    assert acme_records(people) == []  # nothing was counted against her
    client.post("/login/", {"username": "rita@acme.test", "password": "wrong"})
    failed = acme_records(people)
    services.membership_lockout_lift(actor=people.actor(people.ada), membership=rita)
    [record] = acme_records(people)[len(failed) :]
    assert record.action == "member.lockout_lifted"
    assert_by_ada(record, people)
    assert record.target_label == "Rita Requester"


# --- Invitations and sign-ups -----------------------------------------------------------------


def test_inviting_records_the_email_and_role(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.membership_invite(
            actor=people.actor(people.ada), email="Nina@Acme.test", role="agent"
        )
    record = the_one_record(people)
    assert record.action == "invitation.sent"
    assert_by_ada(record, people)
    assert (record.target_type, record.target_id) == ("invitation", str(invitation.pk))
    assert record.after == {"email": "nina@acme.test", "role": "Agent"}
    assert invitation.key not in str(record.after)  # the link's secret is never recorded


def test_inviting_again_with_another_role_records_the_new_link_and_role(people):
    ada = people.actor(people.ada)
    services.membership_invite(actor=ada, email="nina@acme.test", role="agent")
    services.membership_invite(actor=ada, email="nina@acme.test", role="manager")
    _, again = acme_records(people)
    assert again.action == "invitation.resent"
    assert (again.before, again.after) == (
        {"role": "Agent"},
        {"role": "Manager", "link": "replaced"},
    )


def test_a_refused_invitation_records_nothing(people):
    with pytest.raises(InvalidInput):
        services.membership_invite(
            actor=people.actor(people.ada), email="bob@acme.test", role="agent"
        )
    with pytest.raises(NotAllowed):
        services.membership_invite(
            actor=people.actor(people.alice), email="x@acme.test", role="agent"
        )
    assert acme_records(people) == []


def test_withdrawing_an_invitation_records_it_once(people):
    ada = people.actor(people.ada)
    invitation = services.membership_invite(actor=ada, email="nina@acme.test", role="agent")
    services.invitation_revoke(actor=ada, invitation=invitation)
    services.invitation_revoke(actor=ada, invitation=invitation)  # already withdrawn
    _, revoked = acme_records(people)
    assert (revoked.action, revoked.target_label) == ("invitation.revoked", "nina@acme.test")
    assert (revoked.before, revoked.after) == ({"status": "pending"}, {"status": "withdrawn"})


def test_accepting_an_invitation_is_recorded_as_the_new_member(people):
    invitation = services.membership_invite(
        actor=people.actor(people.ada), email="nina@acme.test", role="agent"
    )
    membership = services.invitation_accept(
        invitation=invitation, password=NEW_PASSWORD, full_name="Nina New"
    )
    _, accepted = acme_records(people)
    assert accepted.action == "invitation.accepted"
    assert (accepted.actor_kind, accepted.actor_user_id, accepted.actor_name) == (
        "member",
        membership.user_id,
        "Nina New",
    )
    assert (accepted.target_id, accepted.after) == (
        str(membership.pk),
        {"email": "nina@acme.test", "role": "Agent"},
    )
    assert NEW_PASSWORD not in str(accepted.after)


def test_a_refused_acceptance_records_nothing(people):
    invitation = services.membership_invite(
        actor=people.actor(people.ada), email="nina@acme.test", role="agent"
    )
    with pytest.raises(InvalidInput):  # a new person must choose a password
        services.invitation_accept(invitation=invitation, password="")
    assert [r.action for r in acme_records(people)] == ["invitation.sent"]


def test_a_sign_up_is_recorded_as_the_new_requester(people):
    people.acme.signup_domains = "acme.test"
    people.acme.save()
    claim = SignupClaim(tenant=people.acme, email="sam@acme.test", full_name="Sam Signup")
    membership = services.requester_signup(claim=claim, password=NEW_PASSWORD)
    record = the_one_record(people)
    assert record.action == "member.signed_up"
    assert (record.actor_user_id, record.actor_name) == (membership.user_id, "Sam Signup")
    assert record.after == {"email": "sam@acme.test", "role": "Requester"}
    with pytest.raises(LinkRefused):  # the link is spent: nothing more is recorded
        services.requester_signup(claim=claim, password=NEW_PASSWORD)
    assert len(acme_records(people)) == 1


# --- Tenant settings --------------------------------------------------------------------------


def test_changing_the_auto_close_window_records_before_and_after(people):
    services.tenant_confirmation_window_set(actor=people.actor(people.ada), days=5)
    services.tenant_confirmation_window_set(actor=people.actor(people.ada), days=5)  # no change
    record = the_one_record(people)
    assert record.action == "tenant.settings_changed"
    assert_by_ada(record, people)
    assert (record.target_type, record.target_label) == ("tenant", "Acme Corporation")
    assert (record.before, record.after) == (
        {"auto_close_after_business_days": 3},
        {"auto_close_after_business_days": 5},
    )


def test_a_refused_settings_change_records_nothing(people):
    with pytest.raises(InvalidInput):
        services.tenant_confirmation_window_set(actor=people.actor(people.ada), days=99)
    with pytest.raises(NotAllowed):
        services.tenant_confirmation_window_set(actor=people.actor(people.max), days=5)
    assert acme_records(people) == []


# --- API keys ---------------------------------------------------------------------------------


def test_creating_a_key_records_its_name_and_scopes_never_the_secret(people):
    key, secret = api_key_create(
        tenant=people.acme, name="Zabbix", scopes=["write"], actor=people.actor(people.ada)
    )
    record = the_one_record(people)
    assert record.action == "apikey.created"
    assert_by_ada(record, people)
    assert (record.target_type, record.target_id, record.target_label) == (
        "apikey",
        str(key.pk),
        "Zabbix",
    )
    assert record.after == {"name": "Zabbix", "scopes": ["read", "write"]}
    assert secret.rsplit("_", 1)[-1] not in str(record.after)
    assert key.created_by == people.ada


def test_a_key_made_at_the_command_line_names_the_operator(people):
    api_key_create(tenant=people.acme, name="Importer", scopes=["read"])
    record = the_one_record(people)
    assert (record.actor_kind, record.actor_name) == ("system", "operator (command line)")


def test_a_refused_key_records_nothing(people):
    ada = people.actor(people.ada)
    api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    with pytest.raises(InvalidInput):
        api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    with pytest.raises(InvalidInput):
        api_key_create(tenant=people.acme, name="Chat", scopes=["root"], actor=ada)
    assert len(acme_records(people)) == 1


def test_revoking_a_key_records_it_once(people):
    ada = people.actor(people.ada)
    key, _ = api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    api_key_revoke(tenant=people.acme, key_id=key.pk, actor=ada)
    api_key_revoke(tenant=people.acme, key_id=key.pk, actor=ada)  # revoked already
    _, revoked = acme_records(people)
    assert revoked.action == "apikey.revoked"
    assert_by_ada(revoked, people)
    assert (revoked.before, revoked.after) == ({"status": "active"}, {"status": "revoked"})


def test_the_keys_page_records_who_created_and_revoked_a_key(client, people):
    client.force_login(people.ada)
    page = "/t/acme/settings/api-keys/"
    client.post(page, {"name": "Zabbix", "scopes": ["read", "write"]})
    [created] = acme_records(people, "apikey.created")
    assert_by_ada(created, people)
    client.post(f"{page}{created.target_id}/revoke/")
    [revoked] = acme_records(people, "apikey.revoked")
    assert_by_ada(revoked, people)


# --- Sign-ins ---------------------------------------------------------------------------------


def log_in(client, email: str, password: str, address: str = "203.0.113.7"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def test_signing_in_through_the_login_page_is_recorded_with_the_address(client, people):
    assert log_in(client, "alice@acme.test", PASSWORD).status_code == 302
    record = the_one_record(people)
    assert record.action == "signin.succeeded"
    assert (record.actor_kind, record.actor_user_id) == ("member", people.alice.pk)
    assert (record.target_type, record.target_label) == ("user", "alice@acme.test")
    assert record.address == "203.0.113.7"
    assert (record.before, record.after) == ({}, {})


def test_a_failed_sign_in_is_recorded_with_the_email_typed_and_no_actor(client, people):
    assert log_in(client, "Alice@Acme.test", "not-her-password").status_code == 200
    record = the_one_record(people)
    assert record.action == "signin.failed"
    assert (record.actor_kind, record.actor_user_id) == ("anonymous", None)
    assert (record.target_label, record.address) == ("Alice@Acme.test", "203.0.113.7")
    assert "not-her-password" not in str(record.after) + record.target_label


def test_a_failure_for_an_unknown_email_is_recorded_nowhere(client, people):
    log_in(client, "nobody@acme.test", "whatever")
    assert AuditRecord.objects.count() == 0


def test_signing_out_is_recorded(client, people):
    log_in(client, "alice@acme.test", PASSWORD)
    client.post("/logout/", REMOTE_ADDR="203.0.113.8")
    _, out = acme_records(people)
    assert (out.action, out.actor_user_id, out.address) == (
        "signout",
        people.alice.pk,
        "203.0.113.8",
    )


def test_a_person_in_two_tenants_is_recorded_in_each_as_that_member(client, people):
    globex_alice = Membership.objects.create(
        tenant=people.globex, user=people.alice, role=Role.REQUESTER
    )
    log_in(client, "alice@acme.test", PASSWORD)
    theirs = AuditRecord.objects.for_tenant(people.globex).get()
    assert (theirs.action, theirs.actor_user_id) == ("signin.succeeded", people.alice.pk)
    assert the_one_record(people).tenant == people.acme
    globex_alice.is_active = False
    globex_alice.save()
    log_in(client, "alice@acme.test", "wrong")  # a tenant she left records nothing more
    assert AuditRecord.objects.for_tenant(people.globex).count() == 1


def test_charlies_tenant_gets_none_of_acmes_records(client, people):
    ada = people.actor(people.ada)
    log_in(client, "alice@acme.test", PASSWORD)
    log_in(client, "bob@acme.test", "wrong")
    services.tenant_confirmation_window_set(actor=ada, days=4)
    api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    assert len(acme_records(people)) == 4
    assert not AuditRecord.objects.for_tenant(people.globex).exists()


NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def test_the_failure_that_locks_an_account_is_recorded_once(client, people):
    with time_machine.travel(NOON, tick=False):
        for n in range(7):  # the fifth locks; the sixth and seventh are refused during the lock
            log_in(client, "rita@acme.test", f"guess-{n}")
    [locked] = acme_records(people, "signin.locked")
    assert (locked.actor_kind, locked.actor_name) == ("system", "log-in throttle")
    assert locked.target_label == "rita@acme.test"
    assert locked.after == {"log_ins_paused_until": "2026-12-07 12:15 UTC"}
    assert len(acme_records(people, "signin.failed")) == 7


def test_an_address_locked_by_failures_under_many_names_is_no_account_lockout(client, people):
    with time_machine.travel(NOON, tick=False):
        for n in range(4):  # 20 failures from one address, 4 per account: only the address locks
            for name in ("alice", "bob", "rita", "max", "ada"):
                log_in(client, f"{name}@acme.test", f"guess-{n}")
        assert log_in(client, "alice@acme.test", PASSWORD).status_code == 429
    assert acme_records(people, "signin.locked") == []
    assert len(acme_records(people, "signin.failed")) == 21


def test_a_password_reset_is_recorded_without_the_password(client, people):
    client.post("/password-reset/", {"email": "rita@acme.test"})
    set_url = client.get(link_path(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    record = the_one_record(people)
    assert record.action == "password.changed"
    assert (record.actor_user_id, record.target_label) == (people.rita.pk, "rita@acme.test")
    assert record.after == {"password": "reset by emailed link"}


def test_a_refused_password_reset_records_nothing(client, people):
    client.post("/password-reset/", {"email": "rita@acme.test"})
    set_url = client.get(link_path(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": "something-else"})
    assert acme_records(people) == []
