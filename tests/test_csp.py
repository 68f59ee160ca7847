"""Content-Security-Policy: every page of the desk says scripts and styles come from the desk's own
files only, and no template holds inline code the policy would refuse (an inline script, an on*=
handler, hx-on or an hx-trigger filter that htmx would evaluate, a style attribute or element)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse

from tests.desk.desk_support import number_of, routed

BASE_DIR = Path(settings.BASE_DIR)
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _db_down(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection refused")


# A page whose database is down, answered by servicedesk/outage.py (ROOT_URLCONF in one test).
urlpatterns = [path("db-down/", _db_down)]


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: (rest[0] if rest else "") for name, *rest in parts}


def assert_strict_policy(response) -> None:
    assert "Content-Security-Policy" in response, f"no CSP header on {response.wsgi_request.path}"
    header = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, header
    assert directives(response) == POLICY


@pytest.fixture
def incident(people):
    return routed(people, "VPN drops every hour")


@pytest.mark.parametrize(
    ("who", "page"),
    [
        (None, "login"),
        ("rita", "portal-home"),
        ("rita", "portal-report"),
        ("alice", "desk-queue"),
        ("alice", "desk-incident-detail"),
        ("max", "dashboards-home"),
        ("ada", "settings-home"),
        ("ada", "settings-api-keys"),
    ],
)
def test_each_kind_of_page_sends_the_strict_policy(people, incident, login, client, who, page):
    if who:
        client = login(getattr(people, who))
    if page == "login":
        url = reverse(page)
    elif page == "desk-incident-detail":
        url = reverse(page, args=["acme", number_of(incident)])
    else:
        url = reverse(page, args=["acme"])
    response = client.get(url)
    assert response.status_code == 200
    assert_strict_policy(response)


def test_an_htmx_fragment_and_a_404_carry_the_policy_too(people, incident, login):
    client = login(people.rita)
    fragment = client.get(
        reverse("portal-similar", args=["acme"]), {"title": "VPN drops"}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200
    assert_strict_policy(fragment)
    missing = login(people.charlie).get(reverse("desk-queue", args=["acme"]))
    assert missing.status_code == 404
    assert_strict_policy(missing)


def test_the_outage_page_carries_the_policy_and_links_its_stylesheet(client, settings):
    settings.ROOT_URLCONF = __name__
    response = client.get("/db-down/")
    assert response.status_code == 503
    assert_strict_policy(response)
    page = response.content.decode()
    assert "<style" not in page
    assert f'href="{settings.STATIC_URL}css/outage.css"' in page


def test_only_the_api_docs_pages_go_without_the_policy(client, db):
    # drf-spectacular's Swagger UI and Redoc pages need inline code (docs/security.md).
    assert settings.CONTENT_SECURITY_POLICY["EXCLUDE_URL_PREFIXES"] == [
        "/api/v1/docs/",
        "/api/v1/redoc/",
    ]
    assert_strict_policy(client.get("/api/v1/schema/"))


# --- Templates: nothing inline the policy would refuse -------------------------------------------

# <script> with no src runs inline code; a JSON data block (type="application/json") is not run.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*application/json)[^>]*>", re.I)
RULES = {
    "an inline <script>": INLINE_SCRIPT,
    "an on*= event handler": re.compile(r"\son[a-z]+\s*=\s*[\"'{]", re.I),
    "hx-on (htmx evaluates it)": re.compile(r"\b(?:data-)?hx-on\b", re.I),
    "an hx-trigger [filter] (htmx evaluates it)": re.compile(r"hx-trigger\s*=\s*\"[^\"]*\[", re.I),
    "js: in hx-vals or hx-vars (htmx evaluates it)": re.compile(
        r"hx-va(?:ls|rs)\s*=\s*['\"]\s*(?:js|javascript):", re.I
    ),
    "a style= attribute": re.compile(r"\sstyle\s*=", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def template_files() -> list[Path]:
    """Every template of the project: the site's folder and each of the desk's own apps."""
    engines: list[dict] = settings.TEMPLATES
    folders = [Path(d) for engine in engines for d in engine.get("DIRS", [])]
    folders += [
        Path(app.path) / "templates"
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(BASE_DIR) and ".venv" not in Path(app.path).parts
    ]
    return sorted(f for folder in folders if folder.is_dir() for f in folder.rglob("*.html"))


# Template comments never reach the browser, and they may well name what is not allowed.
COMMENT = re.compile(r"\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", re.S)


def inline_code(template: str) -> list[str]:
    # Comments become blank space of their own line count, so line numbers stay true.
    text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), template)
    found = []
    for what, rule in RULES.items():
        for match in rule.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"line {line}: {what}: {match.group(0).strip()}")
    return found


def test_the_scan_covers_the_site_and_every_app_template_folder():
    files = template_files()
    folders = {f.relative_to(BASE_DIR).parts[0] for f in files}
    assert {"templates", "portal", "desk", "dashboards", "mail", "escalation"} <= folders
    assert BASE_DIR / "templates" / "base.html" in files


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="module">go()</script>',
        '<input onclick="this.select()">',
        '<button hx-on:click="this.remove()">',
        "<form hx-trigger=\"change[target.tagName==='SELECT']\">",
        "<div hx-vals='js:{a: 1}'>",
        '<pre style="white-space: pre">',
        "<style>p { color: red }</style>",
        '<a href="javascript:void(0)">',
        "{# a comment #}<p style='color: red'>",
    ],
)
def test_the_scan_catches_each_kind_of_inline_code(snippet):
    assert inline_code(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/js/desk.js" defer></script>',
        '<script type="application/json" id="chart-data">{"a": 1}</script>',
        '<button data-dismiss="[data-box]">',
        '<tbody hx-trigger="every 30s" data-poll-when-visible>',
        "<p>Turned on = yes, the stylesheet is desk.css</p>",
        "{# no <style> here, nor onclick= #}<p>",
        "{% comment %}\n<script>old()</script>\n{% endcomment %}",
    ],
)
def test_the_scan_lets_static_files_and_data_attributes_be(snippet):
    assert inline_code(snippet) == []


def test_no_template_holds_inline_code_the_policy_would_refuse():
    problems = {
        str(f.relative_to(BASE_DIR)): found
        for f in template_files()
        if (found := inline_code(f.read_text(encoding="utf-8")))
    }
    assert problems == {}
