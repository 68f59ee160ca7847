"""Passkeys (django-otp-webauthn) through the desk's endpoints, answered by a software
authenticator: registration under the name typed, recorded; the sign-in's second step with the
passkey; a passkey the server refuses counts as a wrong code; no passkey signs in alone."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tenancy.mfa import services
from tenancy.mfa.signin import PENDING
from tenancy.models import AuditRecord
from tests.factories import PASSWORD
from tests.tenancy.mfa_support import SoftPasskey

ORIGIN = "http://testserver"


def post_json(client, path: str, data: dict | None = None):
    body = json.dumps(data) if data is not None else ""
    return client.post(path, body, content_type="application/json")


def register(client, passkey: SoftPasskey, name: str = "Work laptop"):
    client.post("/account/two-factor/passkey/", {"name": name})
    options = post_json(client, "/account/two-factor/passkey/begin/").json()
    return post_json(
        client, "/account/two-factor/passkey/complete/", passkey.create(options, ORIGIN)
    )


def signed_in(email: str) -> Client:
    """Another browser, signed in (the test's own client stays signed out)."""
    browser = Client()
    assert browser.login(email=email, password=PASSWORD)
    return browser


@pytest.fixture
def alice_passkey(people) -> SoftPasskey:
    passkey = SoftPasskey()
    assert register(signed_in("alice@acme.test"), passkey).status_code == 200
    return passkey


def test_a_passkey_is_registered_under_the_name_typed_and_recorded(login, people, audit):
    client = login(people.alice)
    named = client.post("/account/two-factor/passkey/", {"name": "Work laptop"}).content.decode()
    assert "Now create the passkey “Work laptop”" in named
    assert 'id="otp_webauthn_config"' in named and "otp_webauthn_register.js" in named
    options = post_json(client, "/account/two-factor/passkey/begin/").json()
    assert options["rp"] == {"name": "Service desk", "id": "testserver"}
    answer = post_json(
        client, "/account/two-factor/passkey/complete/", SoftPasskey().create(options, ORIGIN)
    )
    assert answer.status_code == 200, answer.content
    assert [p.name for p in services.passkeys(people.alice)] == ["Work laptop"]
    record = [r for r in audit() if r.action == "mfa.factor_added"]
    assert len(record) == 1 and record[0].after == {"passkey": "Work laptop"}
    assert client.get("/account/two-factor/passkey/added/")["Location"] == (
        "/account/two-factor/recovery-codes/"
    )


def test_a_passkey_from_another_origin_is_refused(login, people):
    client = login(people.alice)
    client.post("/account/two-factor/passkey/", {"name": "Phishing"})
    options = post_json(client, "/account/two-factor/passkey/begin/").json()
    answer = post_json(
        client,
        "/account/two-factor/passkey/complete/",
        SoftPasskey().create(options, "http://desk.example.evil"),
    )
    assert answer.status_code == 422
    assert not services.passkeys(people.alice).exists()
    assert not AuditRecord.objects.filter(action="mfa.factor_added").exists()


def test_registering_needs_a_signed_in_person(client, people):
    assert post_json(client, "/account/two-factor/passkey/begin/").status_code == 403


def test_the_passkey_is_the_second_step_of_signing_in(client, people, alice_passkey):
    client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    page = client.get("/login/verify/").content.decode()
    assert "passkey-verification-button" in page and "otp_webauthn_auth.js" in page
    options = post_json(client, "/login/verify/passkey/begin/").json()
    assert options["rpId"] == "testserver"
    assert len(options["allowCredentials"]) == 1  # hers, to use
    answer = post_json(
        client, "/login/verify/passkey/complete/", alice_passkey.get(options, ORIGIN)
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["redirect_url"] == "/t/acme/desk/"
    assert client.session["_auth_user_id"] == str(people.alice.pk)
    assert client.session["desk_mfa_verified"] is True
    assert PENDING not in client.session


def test_a_refused_passkey_counts_as_a_wrong_code(client, people, alice_passkey):
    client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    options = post_json(client, "/login/verify/passkey/begin/").json()
    answer = post_json(
        client,
        "/login/verify/passkey/complete/",
        alice_passkey.get(options, ORIGIN, tamper=True),
    )
    assert answer.status_code == 422 and "_auth_user_id" not in client.session
    failed = AuditRecord.objects.get(tenant=people.acme, action="signin.failed")
    assert failed.after == {"second_factor": "passkey refused"}


def test_someone_elses_passkey_does_not_sign_her_in(client, people, alice_passkey):
    bob_passkey = SoftPasskey()
    assert register(signed_in("bob@acme.test"), bob_passkey).status_code == 200
    client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    options = post_json(client, "/login/verify/passkey/begin/").json()
    answer = post_json(client, "/login/verify/passkey/complete/", bob_passkey.get(options, ORIGIN))
    assert answer.status_code >= 400 and "_auth_user_id" not in client.session


def test_no_passkey_signs_in_without_the_password_step(client, people, alice_passkey):
    answer = post_json(client, "/login/verify/passkey/begin/")
    assert answer.status_code == 403
    assert "Start again with your email and password" in answer.json()["detail"]
