"""Changing one's password on the account page: Django's validators, the others signed out."""

from __future__ import annotations

from django.test import Client

from tenancy.models import UserSession
from tests.factories import PASSWORD
from tests.tenancy.test_account_sessions import CHROME_LINUX, FIREFOX_WINDOWS, browser, is_logged_in

NEW = "copper-kettle-meadow-93"


def change(client: Client, old: str = PASSWORD, new: str = NEW, again: str | None = None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post("/account/", data, follow=True)


def test_the_page_has_a_change_password_form(people):
    page = browser(CHROME_LINUX, "rita@acme.test").get("/account/").content.decode()
    assert "Current password" in page and "New password again" in page


def test_a_changed_password_ends_the_other_sessions_and_keeps_this_one(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    phone = browser(FIREFOX_WINDOWS, "rita@acme.test")
    response = change(laptop)
    page = response.content.decode()
    assert "Your password is changed. You were signed out of 1 other session." in page
    assert is_logged_in(laptop)
    assert not is_logged_in(phone)
    [row] = UserSession.objects.filter(user=people.rita)
    assert row.session_key == laptop.session.session_key  # the cycled key is still listed
    assert Client().login(email="rita@acme.test", password=NEW)


def test_a_wrong_current_password_is_refused_with_a_message(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    response = change(laptop, old="not-my-password")
    assert response.status_code == 400
    assert "Your old password was entered incorrectly" in response.content.decode()
    people.rita.refresh_from_db()
    assert people.rita.check_password(PASSWORD)


def test_a_weak_password_is_refused_by_the_password_validators(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    response = change(laptop, new="12345678")
    page = response.content.decode()
    assert response.status_code == 400
    assert "This password is too common." in page
    assert "This password is entirely numeric." in page


def test_two_different_new_passwords_are_refused(people):
    response = change(browser(CHROME_LINUX, "rita@acme.test"), again="something-else-77")
    assert "The two password fields didn’t match." in response.content.decode()


def test_the_change_is_recorded_without_the_password(people, audit):
    change(browser(CHROME_LINUX, "rita@acme.test"))
    [record] = [r for r in audit() if r.action == "password.changed"]
    assert record.actor_user_id == people.rita.pk
    assert record.after == {"password": "changed on their account page"}
    assert NEW not in str(record.after)


def test_a_password_reset_by_link_ends_every_session(people, client):
    from django.core import mail

    from tests.tenancy.conftest import link_path

    laptop = browser(CHROME_LINUX, "rita@acme.test")
    client.post("/password-reset/", {"email": "rita@acme.test"})
    set_url = client.get(link_path(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert not is_logged_in(laptop)
    assert not UserSession.objects.filter(user=people.rita).exists()
