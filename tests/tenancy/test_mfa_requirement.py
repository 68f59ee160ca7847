"""A tenant may require a second factor of its agents, managers and admins: set on Settings →
General (recorded), enforced on every page of the tenant, never asked of requesters, met by a
sign-in through the identity provider, and no concern of API keys."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tenancy.apikeys import api_key_create
from tenancy.mfa import services
from tenancy.mfa.signin import AUTH_METHOD, VERIFIED
from tests.factories import PASSWORD
from tests.tenancy.mfa_support import device_code, enrol


@pytest.fixture
def required(people):
    people.acme.mfa_required = True
    people.acme.save(update_fields=["mfa_required"])
    return people.acme


def browser_of(email: str, **session) -> Client:
    client = Client()
    assert client.login(email=email, password=PASSWORD)
    if session:
        store = client.session
        store.update(session)
        store.save()
    return client


def test_an_admin_requires_a_second_factor_and_it_is_recorded(people, audit):
    admin = browser_of("ada@acme.test")
    page = admin.get("/t/acme/settings/general/").content.decode()
    assert "Require a second factor for agents, managers and admins" in page
    answer = admin.post("/t/acme/settings/general/", {"mfa_required": "on"})
    assert answer.status_code == 302
    people.acme.refresh_from_db()
    assert people.acme.mfa_required
    record = audit()[-1]
    assert record.action == "tenant.mfa_required_changed"
    assert record.before == {"second_factor_for_staff": "optional"}
    assert record.after == {"second_factor_for_staff": "required"}


def test_saving_the_requirement_keeps_the_other_settings(people):
    admin = browser_of("ada@acme.test")
    admin.post("/t/acme/settings/general/", {"mfa_required": "on"})
    people.acme.refresh_from_db()
    assert people.acme.confirmation_window_days == 3 and people.acme.audit_retention_days == 730


def test_only_an_admin_changes_the_requirement(people):
    manager = browser_of("max@acme.test")
    assert manager.post("/t/acme/settings/general/", {"mfa_required": "on"}).status_code == 404
    people.acme.refresh_from_db()
    assert not people.acme.mfa_required


@pytest.mark.parametrize("email", ["alice@acme.test", "max@acme.test", "ada@acme.test"])
def test_staff_without_a_factor_are_sent_to_set_one_up(required, email):
    answer = browser_of(email).get("/t/acme/", follow=True)
    assert answer.redirect_chain[0][0] == "/account/two-factor/?next=%2Ft%2Facme%2F"
    page = answer.content.decode()
    assert "Acme Corporation requires agents, managers and admins to use a second factor" in page


def test_the_two_factor_page_says_who_requires_it(required):
    page = browser_of("alice@acme.test").get("/account/two-factor/").content.decode()
    assert "Acme Corporation requires a second factor of agents, managers and admins" in page


def test_a_requester_is_never_asked(required):
    assert browser_of("rita@acme.test").get("/t/acme/portal/").status_code == 200


def test_staff_of_a_tenant_that_does_not_require_it_are_not_asked(required, people):
    assert browser_of("charlie@globex.test").get("/t/globex/desk/").status_code == 200


def test_staff_who_passed_their_factor_work_as_usual(required, people):
    enrol(people.alice)
    client = browser_of("alice@acme.test", **{VERIFIED: True, AUTH_METHOD: "password"})
    assert client.get("/t/acme/desk/").status_code == 200


def test_a_sign_in_through_the_identity_provider_meets_the_requirement(required):
    client = browser_of("alice@acme.test", **{AUTH_METHOD: "sso"})
    assert client.get("/t/acme/desk/").status_code == 200


def test_a_session_that_did_not_pass_an_existing_factor_logs_in_again(required, people):
    enrol(people.alice)
    client = browser_of("alice@acme.test")  # began before her factor, say
    answer = client.get("/t/acme/desk/")
    assert answer["Location"] == "/login/?next=/t/acme/desk/"
    assert "_auth_user_id" not in client.session


def test_after_setting_one_up_the_page_asked_for_opens(required, people):
    client = browser_of("alice@acme.test")
    client.get("/account/two-factor/?next=/t/acme/desk/")
    device = services.authenticator_pending(user=people.alice)
    client.post("/account/two-factor/authenticator/", {"code": device_code(device)})
    codes = client.get("/account/two-factor/recovery-codes/").content.decode()
    assert 'href="/t/acme/desk/"' in codes  # "I have saved them" goes on to the desk
    assert client.get("/t/acme/desk/").status_code == 200


def test_api_keys_are_not_affected(required, people):
    _, key = api_key_create(tenant=people.acme, name="Monitoring", scopes=["read", "write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get("/api/v1/incidents/").status_code == 200


def test_a_browser_session_without_the_factor_cannot_use_the_api_either(required, people):
    refused = browser_of("alice@acme.test").get("/api/v1/incidents/", HTTP_X_TENANT="acme")
    assert refused.status_code == 403
    assert "Acme Corporation requires a second factor" in refused.json()["detail"]
    verified = browser_of("alice@acme.test", **{VERIFIED: True, AUTH_METHOD: "password"})
    assert verified.get("/api/v1/incidents/", HTTP_X_TENANT="acme").status_code == 200
