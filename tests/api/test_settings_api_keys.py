from rest_framework.test import APIClient

from tenancy.models import ApiKey


def test_an_admin_creates_a_key_sees_it_once_and_it_works(login, people):
    client = login(people.ada)
    page = client.post(
        "/t/acme/settings/api-keys/", {"name": "Zabbix", "scopes": ["read", "write"]}
    )
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("sdk_") and secret.encode() in page.content
    again = client.get("/t/acme/settings/api-keys/")
    assert secret.encode() not in again.content and b"Zabbix" in again.content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/incidents/").status_code == 200


def test_a_revoked_key_stops_working(login, people):
    client = login(people.ada)
    secret = client.post("/t/acme/settings/api-keys/", {"name": "Bot", "scopes": ["read"]}).context[
        "secret"
    ]
    key = ApiKey.objects.get(name="Bot")
    client.post(f"/t/acme/settings/api-keys/{key.pk}/revoke/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/incidents/").status_code == 401


def test_a_duplicate_name_is_a_field_error_and_keeps_the_input(login, people):
    client = login(people.ada)
    client.post("/t/acme/settings/api-keys/", {"name": "Bot", "scopes": ["read"]})
    page = client.post("/t/acme/settings/api-keys/", {"name": "Bot", "scopes": ["read"]})
    assert b"exists already" in page.content and b'value="Bot"' in page.content
    assert ApiKey.objects.count() == 1


def test_agents_and_charlie_get_404(login, people):
    assert login(people.alice).get("/t/acme/settings/api-keys/").status_code == 404
    assert login(people.charlie).get("/t/acme/settings/api-keys/").status_code == 404


def test_revoking_another_tenants_key_is_404(login, people):
    from tenancy.apikeys import api_key_create

    key, _ = api_key_create(tenant=people.globex, name="Theirs", scopes=["read"])
    assert login(people.ada).post(f"/t/acme/settings/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
