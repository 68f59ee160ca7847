"""Who else has the incident open (desk/presence.py, desk/views/presence.py): kept in the
presence cache with a short life, per tenant and incident, never in the database."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from desk import presence
from tests.desk.desk_support import routed


def _url(incident, tenant_slug: str = "acme") -> str:
    return reverse(
        "desk-incident-presence", kwargs={"tenant_slug": tenant_slug, "number": incident.number}
    )


@pytest.fixture(autouse=True)
def _own_presence_keys(settings):
    """The configured store (Redis, or files without REDIS_URL), under keys of this test's own:
    ids come back across tests (rolled back), the store outlives them."""
    store = dict(settings.CACHES["presence"])
    store["KEY_PREFIX"] = f"presence-test-{uuid.uuid4()}"
    settings.CACHES = {**settings.CACHES, "presence": store}


@pytest.fixture
def poll(client, people):
    """Poll as `user` (optionally reporting typing); the list of others as the page shows it."""

    def _poll(user, incident, typing: str = "", tenant_slug: str = "acme"):
        client.force_login(user)
        data = {"typing": typing} if typing else {}
        return client.post(_url(incident, tenant_slug), data)

    return _poll


def _said(response) -> str:
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_each_agent_sees_the_others_who_have_it_open_not_themselves(people, poll):
    incident = routed(people, "Printer on fire")
    assert "is viewing" not in _said(poll(people.alice, incident))
    assert "Alice Agent is viewing" in _said(poll(people.bob, incident))
    seen_by_alice = _said(poll(people.alice, incident))
    assert "Bob Agent is viewing" in seen_by_alice
    assert "Alice Agent" not in seen_by_alice


def test_typing_is_shown_and_fades_back_to_viewing(people, poll, monkeypatch):
    incident = routed(people)
    poll(people.bob, incident)
    poll(people.alice, incident, typing="reply")
    assert "Alice Agent is typing a reply" in _said(poll(people.bob, incident))
    poll(people.alice, incident, typing="note")
    assert "Alice Agent is typing an internal note" in _said(poll(people.bob, incident))

    later = presence._now() + presence.TYPING_SECONDS + 1
    monkeypatch.setattr(presence, "_now", lambda: later)
    poll(people.alice, incident)  # still there, no longer typing
    assert "Alice Agent is viewing" in _said(poll(people.bob, incident))


def test_a_page_that_stopped_polling_drops_out(people, poll, monkeypatch):
    incident = routed(people)
    poll(people.alice, incident)
    later = presence._now() + presence.PRESENCE_TTL + 1
    monkeypatch.setattr(presence, "_now", lambda: later)
    assert "Alice Agent" not in _said(poll(people.bob, incident))


def test_an_unknown_typing_value_counts_as_viewing(people, poll):
    incident = routed(people)
    poll(people.alice, incident, typing="<script>")
    said = _said(poll(people.bob, incident))
    assert "Alice Agent is viewing" in said and "script" not in said


def test_presence_is_per_incident(people, poll):
    one, two = routed(people, "One"), routed(people, "Two")
    poll(people.alice, one)
    assert "Alice Agent" not in _said(poll(people.bob, two))


def test_charlie_of_another_tenant_gets_404_and_leaves_no_trace(people, poll):
    incident = routed(people)
    poll(people.alice, incident)
    assert poll(people.charlie, incident).status_code == 404
    assert poll(people.charlie, incident, tenant_slug="globex").status_code == 404
    assert "Charlie" not in _said(poll(people.bob, incident))


def test_a_requester_cannot_poll_the_desk(people, poll):
    incident = routed(people)
    assert poll(people.rita, incident).status_code == 404


def test_a_get_is_refused(people, client):
    client.force_login(people.alice)
    assert client.get(_url(routed(people))).status_code == 405


def test_a_poll_writes_nothing_to_the_database(people, poll, client):
    incident = routed(people)
    poll(people.bob, incident)
    client.force_login(people.alice)
    with CaptureQueriesContext(connection) as queries:
        said = _said(client.post(_url(incident), {"typing": "reply"}))
    assert "Bob Agent is viewing" in said
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert [w for w in writes if "SAVEPOINT" not in w.upper()] == []


def test_the_incident_page_polls_for_presence(people, client):
    incident = routed(people)
    client.force_login(people.alice)
    html = client.get(
        reverse("desk-incident-detail", kwargs={"tenant_slug": "acme", "number": incident.number})
    ).content.decode()
    assert f'hx-post="{_url(incident)}"' in html
    assert "js/desk-presence.js" in html
