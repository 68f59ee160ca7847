"""Failed log-ins lock an account and an address for a while (django-axes, tenancy/throttle.py);
reset requests and bad API keys are counted the same way; a lock is a cool-off an admin can
lift, never permanent."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core import mail
from django.test import RequestFactory
from rest_framework.test import APIClient

from tenancy.apikeys import api_key_create
from tenancy.models import Membership
from tenancy.throttle import client_address
from tests.factories import PASSWORD
from tests.tenancy.conftest import link_path, mails_to

NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
LOCKED = "Too many failed log-ins for this account or from your network"


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def log_in(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=address)


def logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.wsgi_request.session


def test_25_wrong_passwords_lock_the_account_and_then_the_right_one_waits(client, people, clock):
    answers = [log_in(client, "rita@acme.test", f"guess-{n}") for n in range(25)]
    assert [a.status_code for a in answers[:4]] == [200] * 4  # "do not match" and try again
    assert all(a.status_code == 429 for a in answers[4:])
    page = answers[-1].content.decode()
    assert LOCKED in page and "until 12:15 UTC" in page
    assert 'value="rita@acme.test"' in page  # the email as typed is kept
    assert answers[-1]["Retry-After"] == "901"
    right = log_in(client, "rita@acme.test", PASSWORD)
    assert right.status_code == 429 and not logged_in(right)
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    assert logged_in(log_in(client, "rita@acme.test", PASSWORD))


def test_the_lockout_is_recorded(client, people, clock):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    attempt = AccessAttempt.objects.get(username="rita@acme.test")
    assert (attempt.failures_since_start, attempt.ip_address) == (5, "127.0.0.1")
    logs = AccessFailureLog.objects.filter(username="rita@acme.test").order_by("attempt_time")
    assert [log.locked_out for log in logs] == [False] * 4 + [True]


def test_the_case_of_the_email_does_not_dodge_the_lock(client, people, clock):
    for n, email in enumerate(["rita@acme.test", "RITA@acme.test", "Rita@Acme.Test"] * 2):
        log_in(client, email, f"guess-{n}")
    assert log_in(client, "rita@acme.test", PASSWORD).status_code == 429


def test_failures_during_a_lock_do_not_extend_it(client, people, clock):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    for _minute in range(14):  # an attacker keeps trying through the whole cool-off
        clock.shift(dt.timedelta(minutes=1))
        assert log_in(client, "rita@acme.test", "still-guessing").status_code == 429
    clock.shift(dt.timedelta(seconds=61))
    assert logged_in(log_in(client, "rita@acme.test", PASSWORD))


def test_a_success_forgives_the_accounts_own_earlier_slips(client, people, clock):
    for n in range(4):
        log_in(client, "rita@acme.test", f"typo-{n}")
    assert logged_in(log_in(client, "rita@acme.test", PASSWORD))
    client.logout()
    for n in range(4):
        assert log_in(client, "rita@acme.test", f"typo-{n}").status_code == 200
    assert logged_in(log_in(client, "rita@acme.test", PASSWORD))


def test_an_address_trying_many_accounts_is_locked_but_others_are_not(client, people, clock):
    for n in range(20):  # one address, twenty names, four failures or fewer each
        log_in(client, f"person{n % 5}@acme.test", "guess", address="203.0.113.9")
    locked = log_in(client, "alice@acme.test", PASSWORD, address="203.0.113.9")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert logged_in(log_in(client, "alice@acme.test", PASSWORD, address="198.51.100.4"))


def test_an_admin_sees_the_lock_and_lifts_it(client, people, clock, login):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    admin = login(people.ada)
    page = admin.get("/t/acme/settings/members/").content.decode()
    assert "Log-ins paused until 12:15" in page and "Let Rita Requester log in again" in page
    rita = Membership.objects.get(user=people.rita, tenant=people.acme)
    done = admin.post(f"/t/acme/settings/members/{rita.pk}/unlock/", follow=True)
    assert "Rita Requester can log in again now." in done.content.decode()
    assert "Log-ins paused" not in done.content.decode()
    admin.logout()
    assert logged_in(log_in(client, "rita@acme.test", PASSWORD))


def test_only_an_admin_of_the_members_tenant_can_lift_a_lock(client, people, clock, login):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    rita = Membership.objects.get(user=people.rita, tenant=people.acme)
    assert (
        login(people.alice).post(f"/t/acme/settings/members/{rita.pk}/unlock/").status_code == 404
    )
    Membership.objects.filter(user=people.charlie).update(role="admin")
    charlie = login(people.charlie)
    assert charlie.post(f"/t/globex/settings/members/{rita.pk}/unlock/").status_code == 404
    assert charlie.post(f"/t/acme/settings/members/{rita.pk}/unlock/").status_code == 404
    client.logout()
    assert log_in(client, "rita@acme.test", PASSWORD).status_code == 429


def test_reset_requests_are_limited_per_email_with_the_email_kept(client, people, clock):
    for _ in range(5):
        assert client.post("/password-reset/", {"email": "rita@acme.test"}).status_code == 302
    refused = client.post("/password-reset/", {"email": "rita@acme.test"})
    assert refused.status_code == 429 and refused["Retry-After"] == "901"
    page = refused.content.decode()
    assert "Too many reset requests for this address or from your network" in page
    assert 'value="rita@acme.test"' in page
    assert len(mails_to("rita@acme.test")) == 5
    # An unknown address gets the same answer: the limit tells nothing about accounts.
    for _ in range(5):
        client.post("/password-reset/", {"email": "nobody@acme.test"})
    assert client.post("/password-reset/", {"email": "nobody@acme.test"}).status_code == 429
    assert client.post("/password-reset/", {"email": "alice@acme.test"}).status_code == 302


def test_a_completed_reset_lifts_the_accounts_lock(client, people, clock):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    client.post("/password-reset/", {"email": "rita@acme.test"})
    set_url = client.get(link_path(mail.outbox[-1]), follow=True).redirect_chain[-1][0]
    new = "copper-lantern-meadow-84"
    client.post(set_url, {"new_password1": new, "new_password2": new})
    assert logged_in(log_in(client, "rita@acme.test", new))


def test_bad_api_keys_are_throttled_per_key_and_a_right_key_still_works(people, clock):
    key, secret = api_key_create(tenant=people.acme, name="Monitoring", scopes=["read"])
    wrong = APIClient(REMOTE_ADDR="192.0.2.7")
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer sdk_{key.prefix}_not-the-secret")
    answers = [wrong.get("/api/v1/incidents/") for _ in range(6)]
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert answers[-1]["Retry-After"] == "901"
    assert "Too many failed API key attempts" in answers[-1].json()["detail"]
    right = APIClient(REMOTE_ADDR="192.0.2.7")
    right.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert right.get("/api/v1/incidents/").status_code == 200
    assert AccessAttempt.objects.filter(username=f"api-key:{key.prefix}").exists()


def test_an_address_trying_many_keys_is_throttled(people, clock):
    caller = APIClient(REMOTE_ADDR="192.0.2.8")
    for n in range(20):
        caller.credentials(HTTP_AUTHORIZATION=f"Bearer sdk_{n:010d}_guess")
        assert caller.get("/api/v1/incidents/").status_code == 401
    caller.credentials(HTTP_AUTHORIZATION="Bearer sdk_abcdefabcd_guess")
    assert caller.get("/api/v1/incidents/").status_code == 429


def test_the_address_behind_a_proxy_is_the_one_it_appended(settings):
    factory = RequestFactory()
    spoofed = factory.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.4", REMOTE_ADDR="10.0.0.2")
    settings.BEHIND_PROXY = False
    assert client_address(spoofed) == "10.0.0.2"  # no proxy: the header is the client's word
    settings.BEHIND_PROXY, settings.PROXY_COUNT = True, 1
    assert client_address(spoofed) == "198.51.100.4"
    settings.PROXY_COUNT = 2
    assert client_address(spoofed) == "6.6.6.6"
    settings.PROXY_COUNT = 3
    assert client_address(spoofed) == "10.0.0.2"


def test_the_lock_ends_when_the_locked_account_says_not_when_its_address_last_failed(
    client, people, clock
):
    for n in range(5):
        log_in(client, "rita@acme.test", f"guess-{n}")
    clock.shift(dt.timedelta(minutes=5))
    log_in(client, "alice@acme.test", "a typo")  # the address fails again; it is not locked
    clock.shift(dt.timedelta(minutes=1))
    page = log_in(client, "rita@acme.test", PASSWORD)
    assert page.status_code == 429 and "until 12:15 UTC" in page.content.decode()
    assert page["Retry-After"] == str(9 * 60 + 1)
