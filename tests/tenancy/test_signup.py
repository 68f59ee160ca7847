"""Requesters sign up themselves when their address is on the tenant's list of domains."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail

from escalation.models import Notification
from tenancy.models import Membership, Role, Tenant, User
from tests.factories import PASSWORD
from tests.links import assert_plain_404
from tests.tenancy.conftest import link_path, mails_to

NEW_PASSWORD = "willow-signal-harbour-57"
FORM = {"full_name": "Sam Signup", "email": "sam@acme.test"}
PASSWORDS = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


@pytest.fixture
def acme(people) -> Tenant:
    people.acme.signup_domains = "acme.test\nacme-labs.test"
    people.acme.save()
    return people.acme


def test_someone_on_an_allowed_domain_signs_up_and_confirms(client, send, acme):
    response = send(client.post, "/t/acme/signup/", FORM, follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/signup/sent/"
    assert "We sent a confirmation link to sam@acme.test." in response.content.decode()
    assert not User.objects.filter(email="sam@acme.test").exists()  # nothing until confirmed
    assert Notification.objects.get().kind == "signup"
    [message] = mails_to("sam@acme.test")
    page = client.get(link_path(message))
    assert "Your address sam@acme.test is confirmed" in page.content.decode()
    assert 'value="Sam Signup"' in page.content.decode()
    done = client.post(link_path(message), {"full_name": "Sam Signup", **PASSWORDS}, follow=True)
    assert done.redirect_chain[-1][0] == "/t/acme/"
    assert 'data-testid="current-user">Sam Signup<' in done.content.decode()
    membership = Membership.objects.get(user__email="sam@acme.test", tenant=acme)
    assert membership.role == Role.REQUESTER and membership.is_active
    client.logout()
    assert client.login(email="sam@acme.test", password=NEW_PASSWORD)


def test_an_address_on_another_domain_is_refused(client, send, acme):
    response = send(client.post, "/t/acme/signup/", {**FORM, "email": "sam@gmail.test"})
    body = response.content.decode()
    assert "Sign-up at Acme Corporation is not open to addresses at gmail.test" in body
    assert 'value="sam@gmail.test"' in body and 'value="Sam Signup"' in body
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_lookalike_domain_is_refused(client, send, acme):
    response = send(client.post, "/t/acme/signup/", {**FORM, "email": "sam@evilacme.test"})
    assert "not open to addresses at evilacme.test" in response.content.decode()


def test_a_tenant_without_domains_takes_no_signups(client, send, people):
    page = client.get("/t/acme/signup/").content.decode()
    assert "Acme Corporation does not take sign-ups" in page
    response = send(client.post, "/t/acme/signup/", FORM)
    assert "does not take sign-ups" in response.content.decode()
    assert mail.outbox == []


def test_an_existing_member_gets_a_reminder_and_the_same_answer(client, send, acme):
    response = send(client.post, "/t/acme/signup/", {**FORM, "email": "rita@acme.test"})
    assert response.url == "/t/acme/signup/sent/"  # the screen says nothing about accounts
    [message] = mails_to("rita@acme.test")
    assert "you already have an account there" in message.body
    assert "/password-reset/" in message.body


def test_a_confirmation_link_works_once(client, send, acme):
    send(client.post, "/t/acme/signup/", FORM)
    path = link_path(mails_to("sam@acme.test")[0])
    client.post(path, {"full_name": "Sam", **PASSWORDS})
    client.logout()
    again = client.post(path, {"full_name": "Mallory", **PASSWORDS})
    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()
    assert User.objects.get(email="sam@acme.test").full_name == "Sam"


def test_an_expired_confirmation_link_says_so(client, send, acme, settings):
    send(client.post, "/t/acme/signup/", FORM)
    path = link_path(mails_to("sam@acme.test")[0])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(
        seconds=settings.SIGNUP_CONFIRMATION_MAX_AGE + 60
    )
    with time_machine.travel(later):
        response = client.get(path)
    assert response.status_code == 410
    assert "This confirmation link has expired" in response.content.decode()
    assert "Sign up again to get a new link." in response.content.decode()


def test_a_tampered_confirmation_link_is_refused(client, send, acme):
    send(client.post, "/t/acme/signup/", FORM)
    path = link_path(mails_to("sam@acme.test")[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    response = client.get(path.replace(token, token[:-3] + "xyz"))
    assert_plain_404(client, response, "sam@acme.test", "Acme Corporation")


def test_a_confirmation_link_for_another_tenant_is_refused(client, send, acme):
    send(client.post, "/t/acme/signup/", FORM)
    path = link_path(mails_to("sam@acme.test")[0])
    response = client.get(path.replace("/t/acme/", "/t/globex/"))
    assert_plain_404(client, response, "sam@acme.test", "Acme Corporation", "Globex")
    assert not User.objects.filter(email="sam@acme.test").exists()


def test_a_deactivated_member_cannot_sign_up_again(client, send, acme, people):
    send(client.post, "/t/acme/signup/", {**FORM, "email": "bob@acme.test"})
    assert "you already have an account there" in mails_to("bob@acme.test")[0].body
    send(client.post, "/t/acme/signup/", FORM)
    path = link_path(mails_to("sam@acme.test")[0])
    client.post(path, {"full_name": "Sam", **PASSWORDS})
    Membership.objects.filter(user__email="sam@acme.test").update(is_active=False)
    client.logout()
    response = client.post(path, {"full_name": "Sam", **PASSWORDS})
    assert "was deactivated, and signing up again cannot restore it" in (response.content.decode())
    assert not Membership.objects.get(user__email="sam@acme.test").is_active


def test_someone_with_an_account_elsewhere_joins_without_a_new_password(client, send, acme, people):
    user = User.objects.create_user("carol@acme-labs.test", PASSWORD, full_name="Carol")
    Membership.objects.create(tenant=people.globex, user=user, role=Role.AGENT)
    send(client.post, "/t/acme/signup/", {**FORM, "email": "carol@acme-labs.test"})
    path = link_path(mails_to("carol@acme-labs.test")[0])
    assert "you keep your password" in client.get(path).content.decode()
    response = client.post(path, follow=True)
    assert "You joined Acme Corporation" in response.content.decode()
    assert Membership.objects.get(tenant=acme, user=user).role == Role.REQUESTER
    assert client.login(email="carol@acme-labs.test", password=PASSWORD)
