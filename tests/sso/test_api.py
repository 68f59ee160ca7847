"""GET/PUT /api/v1/sso/ and POST /api/v1/sso/test/: single sign-on as code, for admin-scoped keys
and admins' sessions; the secret is write-only; another tenant's key sees only its own."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from sso.models import SsoConfig
from tenancy.apikeys import api_key_create
from tests.factories import PASSWORD
from tests.sso.oidc import CLIENTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/sso/"


def _key(tenant, scopes=("read", "write", "admin")) -> APIClient:
    _, secret = api_key_create(tenant=tenant, name=f"sso-{'-'.join(scopes)}", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _body(issuer: str, **changes) -> dict:
    return {
        "enabled": True,
        "issuer_url": issuer,
        "client_id": CLIENTS["acme"][0],
        "client_secret": CLIENTS["acme"][1],
        "domains": ["acme.test"],
        "group_roles": {"helpdesk": "agent"},
        "require_sso": True,
        "break_glass": "ada@acme.test",
        **changes,
    }


def test_an_admin_key_sets_sso_and_reads_it_back_without_the_secret(people, oidc_provider, audit):
    admin = _key(people.acme)
    answer = admin.put(URL, _body(oidc_provider.issuer), format="json")
    assert answer.status_code == 200, answer.content
    body = admin.get(URL).json()
    assert body["client_secret_set"] is True and "client_secret" not in body
    assert body["scopes"] == "openid email profile" and body["default_role"] == "requester"
    assert body["break_glass"] == "ada@acme.test" and body["domains"] == ["acme.test"]
    assert CLIENTS["acme"][1] not in answer.content.decode()
    created = [r for r in audit() if r.action.startswith("sso.")]
    assert [r.action for r in created] == ["sso.config_created"]
    assert created[0].actor_kind == "integration"


def test_a_put_without_the_secret_keeps_it(people, oidc_provider):
    admin = _key(people.acme)
    admin.put(URL, _body(oidc_provider.issuer), format="json")
    body = _body(oidc_provider.issuer, scopes="openid email")
    del body["client_secret"]
    assert admin.put(URL, body, format="json").status_code == 200
    assert SsoConfig.objects.get(tenant=people.acme).client_secret == CLIENTS["acme"][1]


def test_a_wrong_body_is_a_validation_problem_naming_the_field(people, oidc_provider):
    admin = _key(people.acme)
    answer = admin.put(
        URL, _body(oidc_provider.issuer, break_glass="rita@acme.test"), format="json"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/problem+json")
    assert "must be an active admin" in answer.json()["errors"]["break_glass"][0]
    answer = admin.put(URL, _body(oidc_provider.issuer, group_roles={"x": "boss"}), format="json")
    assert answer.status_code == 400 and "group_roles" in answer.json()["errors"]


def test_keys_without_the_admin_scope_and_agents_are_refused(people, session_client):
    assert _key(people.acme, ("read", "write")).get(URL).status_code == 403
    assert session_client(people.alice).get(URL).status_code == 403


def test_the_test_endpoint_reports_in_words(people, acme_sso, oidc_provider):
    admin = _key(people.acme)
    answer = admin.post(URL + "test/")
    assert answer.status_code == 200
    assert answer.json()["ok"] is True
    assert answer.json()["provider"]["issuer"] == oidc_provider.issuer
    SsoConfig.objects.filter(tenant=people.acme).update(issuer_url="http://127.0.0.1:9")
    answer = admin.post(URL + "test/").json()
    assert answer["ok"] is False and "could not be reached" in answer["problems"][0]


def test_globex_key_sees_no_sso_of_acme(people, acme_sso):
    globex = _key(people.globex)
    assert globex.get(URL).status_code == 404
    assert globex.post(URL + "test/").status_code == 404


@pytest.fixture
def session_client(people):
    def _client(user):
        client = APIClient()
        assert client.login(email=user.email, password=PASSWORD)
        client.credentials(HTTP_X_TENANT="acme")
        return client

    return _client
