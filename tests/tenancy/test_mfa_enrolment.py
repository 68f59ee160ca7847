"""Setting up second factors on /account/two-factor/: an authenticator app from a QR code and a
confirming code, recovery codes shown once, removal only by the person (password or code), each
change recorded in the audit log of each of the person's organisations."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tenancy.mfa import services
from tenancy.models import AuditRecord, Membership, Role
from tests.factories import PASSWORD
from tests.tenancy.mfa_support import code_at, device_code, enrol

SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')


def secret_on(page) -> str:
    found = SECRET.search(page.content.decode())
    assert found, page.content.decode()
    return found.group(1)


def test_an_agent_sets_up_an_authenticator_app_and_gets_recovery_codes_once(login, people, audit):
    client = login(people.alice)
    page = client.get("/account/two-factor/authenticator/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html
    secret = secret_on(page)
    assert secret_on(client.get("/account/two-factor/authenticator/")) == secret  # a reload
    wrong = client.post(
        "/account/two-factor/authenticator/", {"code": "12345", "name": "Work phone"}
    )
    assert "That code does not match" in wrong.content.decode()
    assert 'value="Work phone"' in wrong.content.decode()  # what was typed stays
    assert not services.has_second_factor(people.alice)

    done = client.post(
        "/account/two-factor/authenticator/", {"code": code_at(secret), "name": "Work phone"}
    )
    assert done["Location"] == "/account/two-factor/recovery-codes/"
    shown = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "only time they are shown" in shown
    again = client.get("/account/two-factor/recovery-codes/").content.decode()
    assert codes[0] not in again and "10 unused recovery codes" in again
    assert [d.name for d in services.authenticators(people.alice)] == ["Work phone"]
    records = [r for r in audit() if r.action.startswith("mfa.")]  # after her sign-in
    assert [r.action for r in records] == ["mfa.factor_added", "mfa.recovery_codes_generated"]
    assert records[0].after == {"authenticator_app": "Work phone"}
    assert records[0].actor_name == "Alice Agent"


def test_the_qr_code_is_an_svg_without_inline_style(people):
    device = services.authenticator_pending(user=people.alice)
    uri = services.authenticator_qr(device)
    assert uri.startswith("data:image/svg+xml")
    svg = unquote(uri.split(",", 1)[1])
    assert "<svg" in svg and "style" not in svg.lower()
    assert "otpauth://" in device.config_url and "Service" in device.config_url


def test_a_change_is_recorded_in_each_of_the_persons_organisations(people):
    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.REQUESTER)
    enrol(people.alice)
    for tenant in (people.acme, people.globex):
        assert AuditRecord.objects.filter(tenant=tenant, action="mfa.factor_added").count() == 1


def test_new_recovery_codes_replace_the_old_ones(login, people, audit):
    enrol(people.alice)
    old = services.recovery_codes_generate(user=people.alice)
    client = login(people.alice)
    client.post("/account/two-factor/recovery-codes/new/")
    page = client.get("/account/two-factor/recovery-codes/").content.decode()
    new = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", page)
    assert len(new) == 10 and not set(new) & set(old)
    assert services.recovery_codes_left(people.alice) == 10
    record = audit()[-1]
    assert record.action == "mfa.recovery_codes_generated"
    assert record.before == {"recovery_codes": "10 unused"}


def test_recovery_codes_need_a_factor_first(login, people):
    client = login(people.alice)
    client.post("/account/two-factor/recovery-codes/new/")
    assert services.recovery_codes_left(people.alice) == 0


def test_removing_a_factor_asks_for_the_password_and_takes_the_codes_with_the_last(
    login, people, audit
):
    device = enrol(people.alice)
    services.recovery_codes_generate(user=people.alice)
    client = login(people.alice)
    url = f"/account/two-factor/authenticator/{device.pk}/remove/"
    assert "Remove your authenticator app" in client.get(url).content.decode()
    refused = client.post(url, {"proof": "not-my-password"})
    assert "That is not your password" in refused.content.decode()
    assert services.has_second_factor(people.alice)
    client.post(url, {"proof": PASSWORD})
    assert not services.has_second_factor(people.alice)
    assert services.recovery_codes_left(people.alice) == 0
    assert audit()[-1].action == "mfa.factor_removed"
    assert audit()[-1].before == {"authenticator_app": "Phone"}


def test_a_current_code_also_proves_it_is_the_person(login, people):
    device = enrol(people.alice)
    other = enrol(people.alice, name="Tablet")
    client = login(people.alice)
    client.post(
        f"/account/two-factor/authenticator/{device.pk}/remove/",
        {"proof": device_code(other)},
    )
    assert [d.name for d in services.authenticators(people.alice)] == ["Tablet"]


def test_the_last_factor_stays_while_an_organisation_requires_one(login, people):
    people.acme.mfa_required = True
    people.acme.save()
    device = enrol(people.alice)
    client = login(people.alice)
    answer = client.post(
        f"/account/two-factor/authenticator/{device.pk}/remove/", {"proof": PASSWORD}
    )
    assert "Acme Corporation requires a second factor of you" in answer.content.decode()
    assert services.has_second_factor(people.alice)


def test_nobody_removes_another_persons_factor(login, people):
    device = enrol(people.bob)
    client = login(people.alice)
    url = f"/account/two-factor/authenticator/{device.pk}/remove/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"proof": PASSWORD}).status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.parametrize("path", ["/account/two-factor/", "/account/two-factor/authenticator/"])
def test_the_pages_are_for_people_logged_in(client, people, path):
    assert client.get(path)["Location"].startswith("/login/")


def test_the_page_lists_the_factors(login, people):
    enrol(people.alice, name="Phone")
    page = login(people.alice).get("/account/two-factor/").content.decode()
    assert "Phone" in page and "Remove Phone" in page
