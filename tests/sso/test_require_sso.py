"""A tenant that requires single sign-on: its members' passwords no longer open the desk (nor
reset), with words pointing to SSO; the break-glass admin's still does."""

from __future__ import annotations

import pytest
from django.core import mail

from tenancy.errors import InvalidInput
from tests.factories import PASSWORD
from tests.sso.conftest import ada_membership

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def required(acme_sso, people):
    return acme_sso(require_sso=True, break_glass=ada_membership(people))


def test_a_members_password_is_refused_with_words_pointing_to_sso(client, required, audit):
    answer = client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert answer.status_code == 200
    text = answer.content.decode()
    assert "Acme Corporation signs its people in through single sign-on" in text
    assert "Leave the password empty" in text
    assert "_auth_user_id" not in client.session
    refused = [r for r in audit() if r.action == "sso.password_refused"]
    assert refused[0].target_label == "alice@acme.test"


def test_the_break_glass_admin_still_logs_in_with_a_password(client, required):
    answer = client.post("/login/", {"username": "ada@acme.test", "password": PASSWORD})
    assert answer.status_code == 302
    assert answer["Location"] == "/t/acme/desk/"


def test_the_same_member_signs_in_through_sso(client, required, sso_login, people):
    answer, _ = sso_login("alice@acme.test")
    assert answer.status_code == 302
    assert int(client.session["_auth_user_id"]) == people.alice.pk


def test_a_member_with_an_address_outside_the_domains_is_refused_too(client, required, people):
    people.bob.email = "bob@contractor.example"
    people.bob.save()
    answer = client.post("/login/", {"username": "bob@contractor.example", "password": PASSWORD})
    text = answer.content.decode()
    assert "signs its people in through single sign-on" in text
    assert "Log in with your address at acme.test, without a password" in text
    assert "_auth_user_id" not in client.session


def test_password_log_in_works_again_when_sso_is_no_longer_required(client, required, acme_sso):
    acme_sso(require_sso=False)
    answer = client.post("/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert answer.status_code == 302


def test_password_reset_is_refused_for_members_and_sent_to_the_break_glass_admin(client, required):
    answer = client.post("/password-reset/", {"email": "alice@acme.test"})
    assert "there is no password to reset here" in answer.content.decode()
    assert mail.outbox == []
    answer = client.post("/password-reset/", {"email": "ada@acme.test"})
    assert answer.status_code == 302
    assert [m.to for m in mail.outbox] == [["ada@acme.test"]]


def test_requiring_sso_needs_a_break_glass_admin(acme_sso):
    with pytest.raises(InvalidInput, match="Choose a break-glass admin"):
        acme_sso(require_sso=True, break_glass=None)
