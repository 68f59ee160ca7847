"""The real OpenID provider of the SSO tests (oidc_provider/server.mjs: panva's oidc-provider on
Node), started once per test session on a free loopback port, and a walk through its sign-in as
a person's browser would make it."""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from sso.services import SsoSettings
from tenancy.models import Role

HERE = Path(__file__).parent / "oidc_provider"
CLIENTS = {"acme": ("desk-acme", "acme-client-secret"), "globex": ("desk-globex", "globex-secret")}


@dataclass
class OidcProvider:
    issuer: str

    def next_token(self, mode: str) -> None:
        """The next token response carries a broken ID token (server.mjs says how)."""
        answer = requests.post(f"{self.issuer}/__test__/next-token", json={"mode": mode}, timeout=5)
        answer.raise_for_status()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _npm_ci() -> None:
    """A clean clone has no node_modules: install the locked versions."""
    if (HERE / "node_modules" / "oidc-provider").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed for the SSO tests (apt-get install nodejs npm)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)


@pytest.fixture(scope="session", name="oidc_provider")
def oidc_provider_fixture():
    _npm_ci()
    port = _free_port()
    clients = [{"client_id": i, "client_secret": s} for i, s in CLIENTS.values()]
    env = {"PORT": str(port), "CLIENTS": json.dumps(clients), "PATH": "/usr/bin:/bin"}
    node = shutil.which("node") or "node"
    log = (HERE / "server.log").open("w")  # ignored by git: what the provider said, on failure
    process = subprocess.Popen([node, "server.mjs"], cwd=HERE, env=env, stdout=log, stderr=log)
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None:
                    pytest.fail(f"oidc-provider exited: {(HERE / 'server.log').read_text()}")
                time.sleep(0.1)
        yield OidcProvider(issuer)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


CONTINUE = re.compile(r'href="([^"]+)"[^>]*data-sso-continue')


def continue_url(page: str) -> str:
    """The provider URL of the desk's "Taking you to …'s sign-in" page."""
    found = CONTINUE.search(page)
    assert found, page
    return html.unescape(found.group(1))


def sign_in_at_provider(url: str, login: str, *, desk: str = "http://testserver") -> str:
    """Follow the provider's pages from the authorization URL, sign in as `login` (an e-mail, or
    "email;group1,group2"), and return the desk callback's path and query it sends back to."""
    browser = requests.Session()
    answer = browser.get(url, allow_redirects=False, timeout=5)
    for _ in range(10):
        location = answer.headers.get("Location")
        if location is None:
            break
        target = urljoin(answer.url, location)
        if target.startswith(desk):
            parts = urlsplit(target)
            return f"{parts.path}?{parts.query}"
        answer = browser.get(target, allow_redirects=False, timeout=5)
    else:
        raise AssertionError("the provider redirected too often")
    assert answer.status_code == 200, answer.text
    form = re.search(r'<form[^>]*action="([^"]+)"', answer.text)
    assert form, answer.text
    answer = browser.post(
        urljoin(answer.url, html.unescape(form.group(1))),
        data={"prompt": "login", "login": login, "password": "any"},
        allow_redirects=False,
        timeout=5,
    )
    while True:
        target = urljoin(answer.url, answer.headers["Location"])
        if target.startswith(desk):
            parts = urlsplit(target)
            return f"{parts.path}?{parts.query}"
        answer = browser.get(target, allow_redirects=False, timeout=5)


def sso_settings(issuer: str, tenant: str = "acme", **changes) -> SsoSettings:
    client_id, secret = CLIENTS[tenant]
    values = {
        "issuer_url": issuer,
        "client_id": client_id,
        "client_secret": secret,
        "scopes": "openid email profile",
        "email_claim": "email",
        "groups_claim": "groups",
        "domains": [f"{tenant}.test"],
        "group_roles": {},
        "default_role": Role.REQUESTER,
        "sync_roles": False,
        "require_sso": False,
        "break_glass": None,
        "enabled": True,
        **changes,
    }
    return SsoSettings(**values)
