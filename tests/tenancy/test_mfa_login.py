"""Signing in with a second factor: the password alone does not log in a person who has one;
a code of their authenticator app or an unused recovery code does; wrong codes are counted,
recorded and paused per person."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tenancy.mfa import services
from tenancy.mfa.signin import PENDING
from tenancy.models import AuditRecord
from tests.factories import PASSWORD
from tests.tenancy.mfa_support import device_code, enrol

NOON = dt.datetime(2026, 12, 7, 12, 0, 5, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def password_step(client, email: str, password: str = PASSWORD, next_url: str = ""):
    data = {"username": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_password_alone_does_not_log_in_someone_with_an_authenticator_app(
    client, people, clock
):
    enrol(people.alice)
    answer = password_step(client, "alice@acme.test", next_url="/t/acme/desk/")
    assert answer.status_code == 302 and answer["Location"] == "/login/verify/"
    assert not logged_in(client)
    assert client.session[PENDING]["user"] == people.alice.pk
    page = client.get("/login/verify/")
    assert b"Type the code your authenticator app shows" in page.content
    assert client.get("/t/acme/desk/").status_code == 302  # still not in


def test_the_right_code_logs_in_to_the_page_asked_for_and_says_how(client, people, clock):
    device = enrol(people.alice)
    password_step(client, "alice@acme.test", next_url="/t/acme/desk/")
    answer = client.post("/login/verify/", {"code": device_code(device)})
    assert answer.status_code == 302 and answer["Location"] == "/t/acme/desk/"
    assert logged_in(client)
    assert client.session["desk_auth_method"] == "password"
    assert client.session["desk_mfa_verified"] is True
    assert PENDING not in client.session
    record = AuditRecord.objects.get(tenant=people.acme, action="signin.succeeded")
    assert record.after == {"second_factor": "authenticator app"}


def test_without_a_second_factor_the_password_logs_in_as_before(client, people):
    answer = password_step(client, "rita@acme.test")
    assert answer.status_code == 302 and answer["Location"].startswith("/t/acme/")
    assert logged_in(client)
    assert client.session["desk_auth_method"] == "password"
    assert client.session["desk_mfa_verified"] is False


def test_a_code_already_used_cannot_be_used_again(client, people, clock):
    device = enrol(people.alice)
    code = device_code(device)
    password_step(client, "alice@acme.test")
    client.post("/login/verify/", {"code": code})
    assert logged_in(client)
    client.post("/logout/")
    password_step(client, "alice@acme.test")
    again = client.post("/login/verify/", {"code": code})
    assert again.status_code == 400 and not logged_in(client)


def test_five_wrong_codes_pause_the_person_and_each_is_a_failed_sign_in(client, people, clock):
    device = enrol(people.alice)
    password_step(client, "alice@acme.test")
    right = device_code(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    answers = [client.post("/login/verify/", {"code": wrong}) for _ in range(5)]
    assert [a.status_code for a in answers[:4]] == [400] * 4
    assert b"That code is not right" in answers[0].content
    assert answers[4].status_code == 429
    assert b"Too many wrong codes for this account" in answers[4].content
    assert b"paused until 12:15 UTC" in answers[4].content
    refused = client.post("/login/verify/", {"code": right})
    assert refused.status_code == 429 and not logged_in(client)
    failed = AuditRecord.objects.filter(tenant=people.acme, action="signin.failed")
    assert failed.count() == 5
    assert failed.first().after == {"second_factor": "wrong code"}
    assert failed.first().actor_kind == "anonymous"
    locked = AuditRecord.objects.get(tenant=people.acme, action="signin.locked")
    assert locked.target_label == "alice@acme.test"
    assert locked.after == {"log_ins_paused_until": "2026-12-07 12:15 UTC"}


def test_a_new_password_step_does_not_reset_the_pause(client, people, clock):
    device = enrol(people.alice)
    password_step(client, "alice@acme.test")
    for _ in range(5):
        client.post("/login/verify/", {"code": "000000"})
    password_step(client, "alice@acme.test")
    answer = client.post("/login/verify/", {"code": device_code(device)})
    assert answer.status_code == 429 and not logged_in(client)
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    password_step(client, "alice@acme.test")  # the pending sign-in expired meanwhile
    client.post("/login/verify/", {"code": device_code(device)})
    assert logged_in(client)


def test_an_admin_lifts_the_pause_of_a_members_second_step(client, people, clock):
    device = enrol(people.alice)
    password_step(client, "alice@acme.test")
    for _ in range(5):
        client.post("/login/verify/", {"code": "000000"})
    admin = Client()
    assert admin.login(email="ada@acme.test", password=PASSWORD)
    members = admin.get("/t/acme/settings/members/").content.decode()
    assert "Let Alice Agent log in again" in members
    pk = people.alice.memberships.get(tenant=people.acme).pk
    admin.post(f"/t/acme/settings/members/{pk}/unlock/")
    client.post("/login/verify/", {"code": device_code(device)})
    assert logged_in(client)


def test_a_recovery_code_signs_in_once(client, people, clock):
    enrol(people.alice)
    codes = services.recovery_codes_generate(user=people.alice)
    password_step(client, "alice@acme.test")
    client.post("/login/verify/", {"code": codes[3].upper().replace("-", " ")})
    assert logged_in(client)
    signin = AuditRecord.objects.get(tenant=people.acme, action="signin.succeeded")
    assert signin.after == {"second_factor": "recovery code"}
    assert services.recovery_codes_left(people.alice) == 9
    client.post("/logout/")
    password_step(client, "alice@acme.test")
    again = client.post("/login/verify/", {"code": codes[3]})
    assert again.status_code == 400 and not logged_in(client)


def test_the_second_step_expires_and_asks_for_the_password_again(client, people, clock):
    device = enrol(people.alice)
    password_step(client, "alice@acme.test")
    clock.shift(dt.timedelta(seconds=settings.MFA_PENDING_SECONDS + 1))
    answer = client.post("/login/verify/", {"code": device_code(device, time.time())})
    assert answer.status_code == 302 and answer["Location"] == "/login/"
    assert not logged_in(client)
    page = client.get("/login/").content.decode()
    assert "Your sign-in took too long" in page


def test_the_second_step_without_a_password_step_goes_back_to_log_in(client, people):
    assert client.get("/login/verify/")["Location"] == "/login/"


def test_a_wrong_password_never_reaches_the_second_step(client, people, clock):
    enrol(people.alice)
    answer = password_step(client, "alice@acme.test", "not-her-password")
    assert answer.status_code == 200 and PENDING not in client.session


def test_the_django_admin_signs_in_through_the_desks_two_step_log_in(client, people, clock):
    people.alice.is_staff = True
    people.alice.save()
    enrol(people.alice)
    shown = client.get("/admin/login/?next=/admin/tenancy/tenant/")
    assert shown.status_code == 302
    assert shown["Location"] == "/login/?next=/admin/tenancy/tenant/"
    posted = client.post("/admin/login/", {"username": "alice@acme.test", "password": PASSWORD})
    assert posted.status_code == 302 and not logged_in(client)
