"""An admin invites people by email; the link is signed, expiring and single-use."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from escalation.models import Notification
from tenancy.models import Invitation, Membership, User
from tests.factories import PASSWORD
from tests.links import assert_plain_404
from tests.tenancy.conftest import link_path, mails_to

NEW_PASSWORD = "quiet-harbour-lantern-81"


@pytest.fixture
def members_url(people):
    return reverse("settings-members", kwargs={"tenant_slug": "acme"})


def invite(client, send, url, email="nina@acme.test", role="agent"):
    return send(client.post, url, {"email": email, "role": role}, follow=True)


def test_an_invitation_email_goes_through_the_outbox(admin_client, send, members_url):
    response = invite(admin_client, send, members_url)
    assert "Invitation sent to nina@acme.test." in response.content.decode()
    note = Notification.objects.get(kind="invitation")
    assert note.address == "nina@acme.test" and note.status == "sent"
    [message] = mails_to("nina@acme.test")
    assert "Ada Admin invited you to Acme Corporation" in message.subject
    assert "as agent" in message.body and "choose your password" in message.body
    nina = User.objects.get(email="nina@acme.test")
    assert not nina.has_usable_password()  # until she accepts
    assert not Membership.objects.filter(user=nina).exists()


def test_a_new_person_sets_a_password_and_lands_on_the_tenant_home(
    admin_client, send, members_url, client
):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    page = client.get(path)
    assert "Join Acme Corporation" in page.content.decode()
    assert "as <strong>agent</strong>" in page.content.decode()
    response = client.post(
        path,
        {"full_name": "Nina New", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/t/acme/"
    assert "Welcome to Acme Corporation" in response.content.decode()
    assert 'data-testid="current-user">Nina New<' in response.content.decode()
    membership = Membership.objects.get(user__email="nina@acme.test", tenant__slug="acme")
    assert membership.role == "agent" and membership.is_active
    client.logout()
    assert client.login(email="nina@acme.test", password=NEW_PASSWORD)


def test_opening_the_link_does_not_use_it_up(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # a mail scanner opened it first
    assert Invitation.objects.get().accepted_at is None


def test_a_weak_password_is_refused_and_the_name_is_kept(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    response = client.post(
        path, {"full_name": "Nina New", "new_password1": "12345678", "new_password2": "12345678"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "This password is too common" in body or "entirely numeric" in body
    assert 'value="Nina New"' in body
    assert not User.objects.get(email="nina@acme.test").has_usable_password()


def test_an_existing_user_keeps_their_password_and_gains_the_membership(
    admin_client, send, members_url, client, people
):
    invite(admin_client, send, members_url, email="charlie@globex.test", role="manager")
    [message] = mails_to("charlie@globex.test")
    assert "you keep your existing password" in message.body
    path = link_path(message)
    client.logout()
    assert "You already have an account" in client.get(path).content.decode()
    response = client.post(path, follow=True)
    assert "You joined Acme Corporation" in response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/login/?next=/t/acme/")
    assert client.login(email="charlie@globex.test", password=PASSWORD)
    assert client.get("/t/acme/").status_code == 200
    assert Membership.objects.get(user=people.charlie, tenant=people.acme).role == "manager"
    assert "Choose an organisation" in client.get("/").content.decode()


def test_a_used_link_says_so(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    data = {"full_name": "Nina", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    client.post(path, data)
    client.logout()
    for response in (client.get(path), client.post(path, data)):
        assert response.status_code == 410
        assert "This invitation has already been used" in response.content.decode()
    assert Membership.objects.filter(user__email="nina@acme.test").count() == 1


def test_an_expired_link_says_so(admin_client, send, members_url, client, settings):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.INVITATION_MAX_AGE + 60)
    with time_machine.travel(later):
        response = client.get(path)
        assert response.status_code == 410
        assert "This invitation link has expired: links last 7 days" in response.content.decode()
        assert "Ask the administrator of Acme Corporation" in response.content.decode()


def test_a_tampered_link_is_refused(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    token = path.rstrip("/").rsplit("/", 1)[1]
    payload, rest = token.split(":", 1)
    forged = path.replace(
        token, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + ":" + rest
    )
    client.logout()
    assert_plain_404(client, client.get(forged), "nina@acme.test", "Acme Corporation")


def test_a_link_for_another_tenant_is_refused(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    path = link_path(mails_to("nina@acme.test")[0])
    client.logout()
    response = client.get(path.replace("/t/acme/", "/t/globex/"))
    assert_plain_404(client, response, "nina@acme.test", "Acme Corporation", "Globex")
    assert not Membership.objects.filter(user__email="nina@acme.test").exists()


def test_inviting_again_sends_a_new_link_and_voids_the_old_one(
    admin_client, send, members_url, client
):
    invite(admin_client, send, members_url)
    response = invite(admin_client, send, members_url, role="manager")
    assert "A new link replaces the earlier one." in response.content.decode()
    first, second = mails_to("nina@acme.test")
    old, new = link_path(first), link_path(second)
    assert old != new
    client.logout()
    refused = client.get(old)
    assert refused.status_code == 410
    assert "replaced by a newer one" in refused.content.decode()
    assert "as <strong>manager</strong>" in client.get(new).content.decode()
    assert Invitation.objects.count() == 1


def test_inviting_a_current_member_is_refused(admin_client, send, members_url):
    response = invite(admin_client, send, members_url, email="Alice@acme.test")
    assert "alice@acme.test is already a member here (agent)." in response.content.decode()
    assert 'value="Alice@acme.test"' in response.content.decode()  # what was typed stays
    assert mail.outbox == []


def test_inviting_a_deactivated_member_points_to_reactivation(
    admin_client, send, members_url, people
):
    Membership.objects.filter(user=people.bob).update(is_active=False)
    response = invite(admin_client, send, members_url, email="bob@acme.test")
    assert "is a deactivated member. Reactivate them" in response.content.decode()


def test_a_withdrawn_invitation_no_longer_works(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    invitation = Invitation.objects.get()
    url = reverse("settings-invitation-revoke", args=["acme", invitation.pk])
    response = admin_client.post(url, follow=True)
    assert "The invitation to nina@acme.test was withdrawn." in response.content.decode()
    client.logout()
    refused = client.get(link_path(mails_to("nina@acme.test")[0]))
    assert "This invitation was withdrawn" in refused.content.decode()


def test_an_invited_person_cannot_get_in_before_accepting(admin_client, send, members_url, client):
    invite(admin_client, send, members_url)
    client.logout()
    assert not client.login(email="nina@acme.test", password="")
    client.post(reverse("password_reset"), {"email": "nina@acme.test"})
    assert mails_to("nina@acme.test") and len(mails_to("nina@acme.test")) == 1  # no reset mail


def test_the_members_page_lists_pending_invitations(admin_client, send, members_url):
    invite(admin_client, send, members_url)
    body = admin_client.get(members_url).content.decode()
    assert "Waiting for an answer" in body and "nina@acme.test" in body
    assert "Withdraw" in body
