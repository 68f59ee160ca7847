"""A callback that must not sign anybody in: a tampered, mis-addressed or expired ID token (made
by the real provider, test-only control in server.mjs), a replayed state, the provider's own
refusal. Each is a page in words with the way back, never a 500, and an audited failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sso.models import SsoConfig
from tenancy.models import User
from tests.sso.oidc import continue_url, sign_in_at_provider

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _failure(answer, words: str) -> None:
    text = answer.content.decode()
    assert answer.status_code == 400, text
    assert words in text
    assert 'href="/login/"' in text  # the way back


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("tamper", "signature does not match the provider&#x27;s keys"),
        ("wrong-audience", "audience is wrong: it was issued for another application"),
        ("expired", "The ID token has expired"),
    ],
)
def test_a_bad_id_token_signs_nobody_in(
    client, acme_sso, sso_login, oidc_provider, audit, mode, words
):
    oidc_provider.next_token(mode)
    answer, _ = sso_login("pat@acme.test")
    _failure(answer, words)
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(email__in=["pat@acme.test", "mallory@acme.test"]).exists()
    failed = [r for r in audit() if r.action == "sso.signin_failed"]
    assert failed and failed[0].target_label == "pat@acme.test"
    assert words.replace("&#x27;", "'") in failed[0].after["reason"]


def test_the_next_sign_in_after_a_bad_token_works(client, acme_sso, sso_login, oidc_provider):
    oidc_provider.next_token("tamper")
    sso_login("pat@acme.test")
    answer, _ = sso_login("pat@acme.test")
    assert answer.status_code == 302  # the control breaks one token only: the test can fail


def test_a_replayed_state_is_refused_in_the_same_browser(client, acme_sso, sso_login):
    first, callback = sso_login("pat@acme.test")
    assert first.status_code == 302
    client.logout()
    _failure(client.get(callback), "already used or has expired")
    assert "_auth_user_id" not in client.session


def test_a_callback_replayed_in_another_browser_signs_nobody_in(acme_sso, sso_login):
    _, callback = sso_login("pat@acme.test")
    stranger = Client()
    _failure(stranger.get(callback), "already used or has expired")
    assert "_auth_user_id" not in stranger.session


def test_a_callback_with_an_unknown_state_is_refused(client, acme_sso, sso_login):
    page = client.post("/login/", {"username": "pat@acme.test", "password": ""})
    callback = sign_in_at_provider(continue_url(page.content.decode()), "pat@acme.test")
    forged = callback.replace("state=", "state=x")
    _failure(client.get(forged), "already used or has expired")
    assert "_auth_user_id" not in client.session


def test_the_providers_refusal_is_shown_in_words(client, acme_sso, audit):
    client.post("/login/", {"username": "pat@acme.test", "password": ""})
    state = next(iter(client.session["sso_flows"]))
    answer = client.get(
        "/sso/callback/",
        {"error": "access_denied", "error_description": "End-User aborted", "state": state},
    )
    _failure(answer, "The provider refused the sign-in (access_denied: End-User aborted)")
    assert "_auth_user_id" not in client.session
    assert [r.action for r in audit()][-1] == "sso.signin_failed"


def test_an_unreachable_provider_keeps_the_login_page_with_words(client, acme_sso, people, audit):
    SsoConfig.objects.filter(tenant=people.acme).update(issuer_url="http://127.0.0.1:9")
    answer = client.post("/login/", {"username": "pat@acme.test", "password": ""})
    assert answer.status_code == 502
    text = answer.content.decode()
    assert "sign-in provider cannot be used right now" in text
    assert 'value="pat@acme.test"' in text
    failed = [r for r in audit() if r.action == "sso.signin_failed"]
    assert "could not be reached" in failed[0].after["reason"]


def test_a_sign_in_left_at_the_provider_for_over_15_minutes_has_expired(client, acme_sso):
    page = client.post("/login/", {"username": "pat@acme.test", "password": ""})
    callback = sign_in_at_provider(continue_url(page.content.decode()), "pat@acme.test")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        _failure(client.get(callback), "already used or has expired")
    assert "_auth_user_id" not in client.session
