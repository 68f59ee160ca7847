"""Settings → Single sign-on: the admin's form, its refusals in words, the write-only secret, the
test of the connection, the trial sign-in, tenant isolation and the audit log."""

from __future__ import annotations

import pytest

from sso.models import SsoConfig, SsoDomain
from sso.services import sso_config_set
from tenancy.errors import InvalidInput
from tenancy.models import Membership, Role
from tests.sso.oidc import CLIENTS, continue_url, sign_in_at_provider, sso_settings

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/t/acme/settings/sso/"


def _form(issuer: str, **changes) -> dict:
    return {
        "enabled": "on",
        "issuer_url": issuer,
        "client_id": CLIENTS["acme"][0],
        "client_secret": CLIENTS["acme"][1],
        "scopes": "openid email profile",
        "email_claim": "email",
        "groups_claim": "groups",
        "domains": "acme.test",
        "group_roles": "helpdesk = agent\nleads = manager",
        "default_role": "requester",
        **changes,
    }


def test_an_admin_sets_up_sso_and_the_secret_is_never_shown_back(
    login, people, oidc_provider, audit
):
    web = login(people.ada)
    answer = web.post(URL, _form(oidc_provider.issuer))
    assert answer.status_code == 302
    config = SsoConfig.objects.get(tenant=people.acme)
    assert config.enabled and config.group_roles == {"helpdesk": "agent", "leads": "manager"}
    page = web.get(URL).content.decode()
    assert CLIENTS["acme"][1] not in page
    assert "Leave blank to keep it" in page
    created = [r for r in audit() if r.action == "sso.config_created"][0]
    assert CLIENTS["acme"][1] not in str(created.after)
    assert created.after["domains"] == ["acme.test"]


def test_a_blank_secret_keeps_the_stored_one_and_a_new_one_is_audited_as_changed(
    login, people, oidc_provider, acme_sso, audit
):
    web = login(people.ada)
    web.post(URL, _form(oidc_provider.issuer, client_secret="", scopes="openid email"))
    config = SsoConfig.objects.get(tenant=people.acme)
    assert config.client_secret == CLIENTS["acme"][1] and config.scopes == "openid email"
    web.post(URL, _form(oidc_provider.issuer, client_secret="rotated-secret"))
    assert SsoConfig.objects.get(tenant=people.acme).client_secret == "rotated-secret"
    changes = [r for r in audit() if r.action == "sso.config_changed"]
    assert changes[0].before["scopes"] == "openid email profile"
    assert changes[0].after["scopes"] == "openid email"
    assert changes[1].after["client_secret"] == "(new secret)"
    assert "rotated-secret" not in str(changes[1].after)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"scopes": "email profile"}, "The scopes must include openid."),
        ({"domains": "gmail.com"}, "gmail.com is a public mail service"),
        ({"domains": "not a domain!"}, "is not an e-mail domain"),
        ({"domains": ""}, "Claim at least one e-mail domain"),
        ({"group_roles": "helpdesk: agent"}, "Line 1 (helpdesk: agent)"),
        ({"group_roles": "helpdesk = boss"}, "Line 1 (helpdesk = boss)"),
        ({"issuer_url": "ftp://idp.example.com/"}, "must start with https://"),
        ({"require_sso": "on"}, "Choose a break-glass admin"),
    ],
)
def test_a_wrong_setting_is_refused_in_words_keeping_what_was_typed(
    login, people, oidc_provider, changes, words
):
    answer = login(people.ada).post(URL, _form(oidc_provider.issuer, **changes))
    text = answer.content.decode()
    assert answer.status_code == 200
    assert words in text
    assert 'value="desk-acme"' in text  # nothing typed is lost
    assert not SsoConfig.objects.filter(tenant=people.acme).exists()


def test_http_and_private_providers_are_refused_outside_tests(people, oidc_provider, settings):
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(InvalidInput, match="must start with https://"):
        sso_config_set(actor=people.actor(people.ada), data=sso_settings(oidc_provider.issuer))
    with pytest.raises(InvalidInput, match="public addresses"):
        sso_config_set(actor=people.actor(people.ada), data=sso_settings("https://127.0.0.1:8443/"))


def test_a_domain_claimed_by_another_tenant_is_refused_without_naming_it(
    people, oidc_provider, acme_sso
):
    Membership.objects.filter(tenant=people.globex, user=people.charlie).update(role=Role.ADMIN)
    actor = people.actor(people.charlie, people.globex)
    data = sso_settings(oidc_provider.issuer, tenant="globex", domains=["globex.test", "acme.test"])
    with pytest.raises(InvalidInput, match="acme.test is already claimed by another") as caught:
        sso_config_set(actor=actor, data=data)
    assert "Acme" not in caught.value.message
    assert list(SsoDomain.objects.values_list("domain", flat=True)) == ["acme.test"]


def test_the_break_glass_admin_must_be_an_admin(people, oidc_provider, acme_sso):
    rita = Membership.objects.get(tenant=people.acme, user=people.rita)
    with pytest.raises(InvalidInput, match="must be an active admin"):
        acme_sso(break_glass=rita)


def test_only_admins_reach_the_page_and_charlies_tenant_gets_404(login, people, acme_sso):
    assert login(people.max).get(URL).status_code == 404
    assert login(people.alice).post(URL + "test/").status_code == 404
    charlie = login(people.charlie)
    assert charlie.get(URL).status_code == 404
    assert charlie.post(URL + "try/").status_code == 404


def test_globex_admin_sees_only_its_own_empty_settings(login, people, acme_sso):
    Membership.objects.filter(tenant=people.globex, user=people.charlie).update(role=Role.ADMIN)
    page = login(people.charlie).get("/t/globex/settings/sso/").content.decode()
    assert "desk-acme" not in page and "acme.test" not in page
    assert login(people.charlie).post("/t/globex/settings/sso/test/").status_code == 404


def test_the_connection_test_reports_the_provider_and_its_keys(login, people, acme_sso):
    page = login(people.ada).post(URL + "test/").content.decode()
    assert "The provider answered: discovery and 1 signing key found" in page


def test_the_connection_test_says_what_is_wrong_in_words(login, people, acme_sso, oidc_provider):
    SsoConfig.objects.filter(tenant=people.acme).update(issuer_url=oidc_provider.issuer + "/nope")
    page = login(people.ada).post(URL + "test/").content.decode()
    assert "The discovery document answered HTTP 404" in page
    SsoConfig.objects.filter(tenant=people.acme).update(issuer_url="http://127.0.0.1:9")
    page = login(people.ada).post(URL + "test/").content.decode()
    assert "The discovery document could not be reached" in page


def test_a_trial_sign_in_shows_the_claims_and_role_and_changes_nothing(
    login, people, acme_sso, audit
):
    acme_sso(group_roles={"leads": Role.MANAGER}, enabled=False)
    web = login(people.ada)
    page = web.post(URL + "try/")
    callback = sign_in_at_provider(continue_url(page.content.decode()), "lee@acme.test;leads")
    result = web.get(callback)
    text = result.content.decode()
    assert result.status_code == 200
    assert "The trial sign-in worked" in text
    assert "lee@acme.test" in text and "Manager" in text
    assert not Membership.objects.filter(user__email="lee@acme.test").exists()
    assert int(web.session["_auth_user_id"]) == people.ada.pk  # still Ada, not Lee
    assert [r.action for r in audit() if r.action.startswith("sso.")] == ["sso.config_changed"]
