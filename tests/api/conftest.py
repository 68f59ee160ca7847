from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tenancy.apikeys import api_key_create
from tests.escalation.sla_helpers import MONDAY_10
from tests.factories import PASSWORD


@pytest.fixture
def make_key(people):
    def _make(scopes=("read", "write"), tenant=None, name=None):
        tenant = tenant or people.acme
        _, secret = api_key_create(
            tenant=tenant, name=name or f"key-{'-'.join(scopes)}-{tenant.slug}", scopes=list(scopes)
        )
        return secret

    return _make


@pytest.fixture
def api(make_key):
    """An APIClient with a read/write key of acme."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key()}")
    return client


@pytest.fixture
def api_for(make_key):
    def _client(scopes=("read", "write"), tenant=None):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(scopes, tenant)}")
        return client

    return _client


@pytest.fixture
def session_for(people):
    """An APIClient logged in as a person (the browser's session), CSRF checked on request."""

    def _client(user, csrf=False):
        client = APIClient(enforce_csrf_checks=csrf)
        assert client.login(email=user.email, password=PASSWORD)
        return client

    return _client


@pytest.fixture
def travel(people):
    """Freeze time at Monday 10:00 (UTC); travel(seconds=...) moves to that much later."""
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield lambda **delta: traveller.move_to(MONDAY_10 + timedelta(**delta))


@pytest.fixture
def admin(api_for):
    """A client with an admin-scoped key of acme: configuration as code."""
    return api_for(("read", "write", "admin"))
