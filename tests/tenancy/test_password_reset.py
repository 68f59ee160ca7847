"""Password reset by email: Django's views and mail, in the desk's own pages."""

from __future__ import annotations

from django.core import mail

from tests.factories import PASSWORD
from tests.links import assert_plain_404
from tests.tenancy.conftest import link_path

NEW_PASSWORD = "copper-kettle-meadow-93"


def test_a_forgotten_password_is_reset_through_the_emailed_link(client, people):
    login_page = client.get("/login/").content.decode()
    assert 'href="/password-reset/"' in login_page
    response = client.post("/password-reset/", {"email": "rita@acme.test"}, follow=True)
    assert "Check your email" in response.content.decode()
    [message] = mail.outbox
    assert message.to == ["rita@acme.test"]
    assert message.subject == "Reset your service desk password"
    path = link_path(message)
    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]  # Django swaps the token for a session marker
    done = client.post(
        set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Your password is changed" in done.content.decode()
    assert not client.login(email="rita@acme.test", password=PASSWORD)
    response = client.post(
        "/login/", {"username": "rita@acme.test", "password": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/t/acme/portal/"


def test_a_reset_link_works_once(client, people):
    client.post("/password-reset/", {"email": "rita@acme.test"})
    path = link_path(mail.outbox[0])
    set_url = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    client.logout()
    assert_plain_404(client, client.get(path, follow=True), "Choose a new password")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, people):
    response = client.post("/password-reset/", {"email": "nobody@acme.test"}, follow=True)
    assert "If an account uses that address" in response.content.decode()
    assert mail.outbox == []


def test_the_link_comes_from_site_url_not_the_request_host(client, people, settings):
    client.post("/password-reset/", {"email": "rita@acme.test"}, HTTP_HOST="localhost")
    assert settings.SITE_URL + "/password-reset/" in mail.outbox[0].body
    assert "//localhost/" not in mail.outbox[0].body
