"""Single sign-on against a real OpenID provider (tests/sso/oidc.py)."""

from __future__ import annotations

import pytest

from sso.models import SsoConfig
from sso.services import sso_config_set
from tenancy.models import Membership
from tests.sso.oidc import (
    continue_url,
    oidc_provider_fixture,  # noqa: F401  (the fixture oidc_provider)
    sign_in_at_provider,
    sso_settings,
)


@pytest.fixture(autouse=True)
def _provider_on_loopback(settings):
    settings.SSO_ALLOW_PRIVATE_ADDRESSES = True  # the test provider listens on 127.0.0.1


@pytest.fixture
def acme_sso(people, oidc_provider):
    """Acme's single sign-on, on: acme.test people go to the test provider. Call it with
    changes to set it again."""

    def _set(**changes) -> SsoConfig:
        return sso_config_set(
            actor=people.actor(people.ada), data=sso_settings(oidc_provider.issuer, **changes)
        )

    _set()
    return _set


@pytest.fixture
def sso_login(client, oidc_provider):
    """Type the e-mail on the log-in page (no password), sign in at the provider as `login`,
    and return the desk's answer to the callback (and the callback URL, to replay it)."""

    def _walk(email: str, login: str | None = None, *, web=None):
        web = web or client
        page = web.post("/login/", {"username": email, "password": ""})
        assert page.status_code == 200, page.content
        callback = sign_in_at_provider(continue_url(page.content.decode()), login or email)
        return web.get(callback), callback

    return _walk


def ada_membership(people) -> Membership:
    return Membership.objects.get(tenant=people.acme, user=people.ada)
