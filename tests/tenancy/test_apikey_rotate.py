"""Rotating an API key's secret: the new secret works at once, the old one never again, the
key keeps its name and scopes, and the audit log says who rotated it without either secret."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from tenancy.apikeys import api_key_create, api_key_revoke, api_key_rotate
from tenancy.errors import InvalidInput
from tenancy.models import ApiKey, AuditRecord

PAGE = "/t/acme/settings/api-keys/"


def _calls(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/incidents/").status_code


def test_the_new_secret_works_and_the_old_one_stops_at_once(people):
    ada = people.actor(people.ada)
    key, old = api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    assert _calls(old) == 200
    rotated, new = api_key_rotate(tenant=people.acme, key_id=key.pk, actor=ada)
    assert _calls(new) == 200
    assert _calls(old) == 401
    assert (rotated.pk, rotated.name, rotated.scopes) == (key.pk, "Zabbix", "read")


def test_rotating_is_recorded_without_either_secret(people):
    ada = people.actor(people.ada)
    key, old = api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    _, new = api_key_rotate(tenant=people.acme, key_id=key.pk, actor=ada)
    record = AuditRecord.objects.for_tenant(people.acme).get(action="apikey.rotated")
    assert record.actor_user_id == people.ada.pk and record.target_label == "Zabbix"
    assert record.after["secret"] == "rotated"
    written = str(record.before) + str(record.after)
    assert old.split("_")[2] not in written and new.split("_")[2] not in written


def test_a_revoked_key_cannot_be_rotated(people):
    ada = people.actor(people.ada)
    key, _ = api_key_create(tenant=people.acme, name="Zabbix", scopes=["read"], actor=ada)
    api_key_revoke(tenant=people.acme, key_id=key.pk, actor=ada)
    with pytest.raises(InvalidInput, match="revoked: create a new key"):
        api_key_rotate(tenant=people.acme, key_id=key.pk, actor=ada)


def test_the_keys_page_shows_the_new_secret_once(client, people):
    client.force_login(people.ada)
    key, old = api_key_create(
        tenant=people.acme, name="Zabbix", scopes=["read"], actor=people.actor(people.ada)
    )
    page = client.post(f"{PAGE}{key.pk}/rotate/").content.decode()
    [shown] = re.findall(r'id="new-key" type="text" readonly value="([^"]+)"', page)
    assert shown != old and _calls(shown) == 200
    assert "the old one no longer works" in page
    assert 'id="new-key"' not in client.get(PAGE).content.decode()


def test_another_tenants_admin_gets_404_and_changes_nothing(client, people):
    key, old = api_key_create(
        tenant=people.acme, name="Zabbix", scopes=["read"], actor=people.actor(people.ada)
    )
    globex_admin = people.charlie
    from tenancy.models import Membership, Role

    Membership.objects.for_tenant(people.globex).filter(user=globex_admin).update(role=Role.ADMIN)
    client.force_login(globex_admin)
    assert client.post(f"/t/globex/settings/api-keys/{key.pk}/rotate/").status_code == 404
    assert _calls(old) == 200
    assert ApiKey.objects.get(pk=key.pk).hashed_secret == key.hashed_secret
