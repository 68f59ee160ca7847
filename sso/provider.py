"""Talking to a tenant's OpenID provider, through Authlib (authorization code flow with PKCE,
state and nonce in the session, the ID token's signature checked against the provider's keys
and its issuer, audience and expiry validated). Nothing here writes to the database.

The desk fetches URLs a tenant admin typed, so each one is checked first as webhooks are
(tenancy/addresses.py): HTTPS to a public address, unless SSO_ALLOW_PRIVATE_ADDRESSES is on.
The client is built per request from the tenant's configuration: a change applies at once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.http import HttpRequest
from joserfc.errors import BadSignatureError, ClaimError, ExpiredTokenError, JoseError

from sso.models import SsoConfig
from tenancy.addresses import private_address_error

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]


class ProviderError(Exception):
    """The provider could not be used; the message says why, in words."""


@dataclass
class ProviderReport:
    """What a test of the configuration found: problems in words, and what the provider said."""

    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def url_problem(url: str, what: str = "The provider's address") -> str | None:
    """Why the desk will not fetch this URL, or None."""
    parts = urlsplit(url)
    allow_private = settings.SSO_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        return f"{what} must start with https:// ({url})."
    if not parts.hostname:
        return f"{what} has no host name ({url})."
    return private_address_error(
        parts.hostname,
        parts.port,
        what="Single sign-on talks only to providers on public addresses",
        allow_private=allow_private,
    )


def _get_json(url: str, what: str) -> dict[str, Any]:
    problem = url_problem(url, what)
    if problem:
        raise ProviderError(problem)
    try:
        response = requests.get(
            url, timeout=settings.SSO_PROVIDER_TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise ProviderError(
            f"{what} could not be reached ({url}): {exc.__class__.__name__}."
        ) from exc
    if response.status_code != 200:
        raise ProviderError(f"{what} answered HTTP {response.status_code} ({url}).")
    try:
        data = response.json()
    except ValueError:
        raise ProviderError(f"{what} did not answer JSON ({url}).") from None
    if not isinstance(data, dict):
        raise ProviderError(f"{what} did not answer a JSON object ({url}).")
    return data


def discovery(config: SsoConfig) -> dict[str, Any]:
    """The provider's metadata, checked enough that a sign-in can start and finish."""
    metadata = _get_json(config.discovery_url, "The discovery document")
    issuer = str(metadata.get("issuer") or "")
    expected = config.discovery_url.removesuffix("/.well-known/openid-configuration")
    if issuer.rstrip("/") != expected.rstrip("/"):
        raise ProviderError(
            f"The discovery document names the issuer {issuer or '(none)'}, not {expected}: "
            "ID tokens would not match. Use the issuer URL the provider gives."
        )
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        url = metadata.get(name)
        if not isinstance(url, str) or not url:
            raise ProviderError(f"The discovery document has no {name}.")
        problem = url_problem(url, f"The provider's {name}")
        if problem and name != "authorization_endpoint":  # the browser, not the desk, goes there
            raise ProviderError(problem)
    return metadata


def client_for(config: SsoConfig, metadata: dict[str, Any] | None = None) -> DjangoOAuth2App:
    """An Authlib client for this tenant, with the metadata already checked (Authlib does not
    fetch it again: `_loaded_at` says it is loaded)."""
    metadata = dict(metadata or discovery(config))
    metadata["_loaded_at"] = time.time()
    metadata.pop("jwks", None)  # keys come from jwks_uri, fetched by Authlib, never inline
    return DjangoOAuth2App(
        DjangoIntegration(_name(config)),
        name=_name(config),
        client_id=config.client_id,
        client_secret=config.client_secret,
        client_kwargs={
            "scope": config.scopes,
            "code_challenge_method": "S256",
            "default_timeout": settings.SSO_PROVIDER_TIMEOUT_SECONDS,
        },
        **metadata,
    )


def _name(config: SsoConfig) -> str:
    return f"sso-tenant-{config.tenant_id}"


def authorization(
    request: HttpRequest, config: SsoConfig, redirect_uri: str, **params: str
) -> tuple[str, str]:
    """(URL to send the browser to, state). The state, nonce and PKCE verifier wait in the
    session for the callback."""
    client = client_for(config)
    found = client.create_authorization_url(redirect_uri, **params)
    client.save_authorize_data(request, redirect_uri=redirect_uri, **found)
    return found["url"], found["state"]


def claims_from_callback(request: HttpRequest, config: SsoConfig) -> dict[str, Any]:
    """The ID token's claims (with the userinfo endpoint's when the ID token lacks the e-mail),
    validated; ProviderError in words for anything wrong."""
    try:
        client = client_for(config)
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [client.server_metadata["issuer"]]},
                "aud": {"essential": True, "values": [config.client_id]},
                "exp": {"essential": True},
            },
            leeway=60,
        )
        if "id_token" not in token:
            raise ProviderError("The provider answered without an ID token (is 'openid' a scope?).")
        claims = dict(token["userinfo"])
        if config.email_claim not in claims and client.server_metadata.get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
        return claims
    except ProviderError:
        raise
    except Exception as exc:  # every library error becomes words, never a 500
        raise ProviderError(failure_in_words(exc)) from exc


def failure_in_words(exc: Exception) -> str:
    """Why a callback failed, for the person and the audit log."""
    if isinstance(exc, MismatchingStateError):
        return "This sign-in was already used or has expired (its state is unknown)."
    if isinstance(exc, OAuthError):
        said = f": {exc.description}" if exc.description else ""
        return f"The provider refused the sign-in ({exc.error}{said})."
    if isinstance(exc, BadSignatureError):
        return "The ID token's signature does not match the provider's keys: it was altered."
    if isinstance(exc, ExpiredTokenError):
        return "The ID token has expired."
    if isinstance(exc, ClaimError):
        words = {
            "aud": "audience is wrong: it was issued for another application",
            "iss": "issuer is not the provider's",
            "nonce": "nonce does not match this sign-in (a replayed token?)",
        }
        return f"The ID token's {words.get(exc.claim, f'claim {exc.claim!r} is wrong or missing')}."
    if isinstance(exc, JoseError | ValueError):
        return f"The ID token is not valid ({exc.__class__.__name__})."
    if isinstance(exc, requests.RequestException):
        return f"The provider could not be reached ({exc.__class__.__name__})."
    return f"The sign-in could not be completed ({exc.__class__.__name__})."


def provider_check(config: SsoConfig) -> ProviderReport:
    """The settings page's and the API's "Test": discovery and the keys, in words."""
    report = ProviderReport()
    try:
        metadata = discovery(config)
    except ProviderError as exc:
        report.problems.append(str(exc))
        return report
    report.facts = {
        "issuer": metadata["issuer"],
        "authorization_endpoint": metadata["authorization_endpoint"],
        "token_endpoint": metadata["token_endpoint"],
    }
    methods = metadata.get("code_challenge_methods_supported") or []
    if "S256" not in methods:
        report.problems.append("The provider does not say it supports PKCE with S256.")
    if "code" not in (metadata.get("response_types_supported") or ["code"]):
        report.problems.append("The provider does not offer the authorization code flow.")
    offered = metadata.get("scopes_supported") or []
    missing = [s for s in config.scopes.split() if offered and s not in offered]
    if missing:
        report.problems.append(f"The provider does not offer the scopes {', '.join(missing)}.")
    try:
        keys = _get_json(metadata["jwks_uri"], "The provider's keys (jwks_uri)").get("keys")
    except ProviderError as exc:
        report.problems.append(str(exc))
        return report
    if not isinstance(keys, list) or not keys:
        report.problems.append("The provider publishes no signing keys.")
    else:
        report.facts["signing_keys"] = len(keys)
    return report
