"""Settings → General: the auto-close window, set by an admin through its service."""

from __future__ import annotations

import pytest

from tenancy import services
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import Tenant

URL = "/t/acme/settings/general/"


def test_an_admin_saves_the_window_and_it_is_kept(login, people):
    client = login(people.ada)
    response = client.post(URL, {"confirmation_window_days": "7"}, follow=True)
    assert "Resolved incidents now close after 7 business days." in response.content.decode()
    assert Tenant.objects.get(pk=people.acme.pk).confirmation_window_days == 7


@pytest.mark.parametrize("typed", ["0", "31", "-2", "three", ""])
def test_a_wrong_window_is_refused_with_what_was_typed_kept(login, people, typed):
    body = login(people.ada).post(URL, {"confirmation_window_days": typed}).content.decode()
    assert 'class="field field-error"' in body
    assert f'value="{typed}"' in body or not typed
    assert Tenant.objects.get(pk=people.acme.pk).confirmation_window_days == 3


@pytest.mark.parametrize("who", ["alice", "max", "rita", "charlie"])
def test_only_an_admin_of_the_tenant_finds_the_page(login, people, who):
    client = login(getattr(people, who))
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"confirmation_window_days": "9"}).status_code == 404
    assert Tenant.objects.get(pk=people.acme.pk).confirmation_window_days == 3


def test_the_service_refuses_a_non_admin_and_names_the_field(people):
    with pytest.raises(NotAllowed):
        services.tenant_confirmation_window_set(actor=people.actor(people.max), days=5)
    with pytest.raises(InvalidInput) as refused:
        services.tenant_confirmation_window_set(actor=people.actor(people.ada), days=31)
    assert refused.value.field == "confirmation_window_days"
