"""The "Yes, it's fixed" / "No, still broken" links of the resolved email: signed, single use,
for one incident, only while it is resolved, expiring; opening one changes nothing."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from django.core import mail

from incidents import services
from incidents.models import Incident
from tests.links import assert_plain_404
from tests.portal.conftest import mails_to


def links(address: str = "rita@acme.test") -> dict[str, str]:
    """The answer links of the last resolved email to `address`, as paths."""
    resolved = [m for m in mails_to(address) if "Resolved:" in m.subject][-1]
    found = dict(re.findall(r"(Yes, it's fixed|No, still broken):\s+(\S+)", resolved.body))
    return {
        "fixed": urlparse(found["Yes, it's fixed"]).path,
        "broken": urlparse(found["No, still broken"]).path,
    }


@pytest.fixture
def resolved(desk) -> Incident:
    return desk.resolve(desk.report())


def state_of(incident: Incident) -> str:
    return Incident.objects.get(pk=incident.pk).state


def test_opening_a_link_changes_nothing(client, resolved):
    version = resolved.version
    for path in links().values():
        response = client.get(path)
        assert response.status_code == 200
        assert "Nothing changes until you press the button." in response.content.decode()
    after = Incident.objects.get(pk=resolved.pk)
    assert (after.state, after.version) == ("resolved", version)


def test_the_fixed_link_closes_with_a_rating_without_a_password(client, resolved):
    path = links()["fixed"]
    html = client.get(path).content.decode()
    assert "Yes, it's fixed" in html and "How happy are you" in html
    html = client.post(path, {"rating": "5", "comment": "Brilliant"}).content.decode()
    assert "Thank you. INC-000001 is closed, and you rated the help 5 out of 5." in html
    closed = Incident.objects.get(pk=resolved.pk)
    assert (closed.state, closed.satisfaction_rating) == ("closed", 5)
    assert closed.events.last().actor_name == "Rita Requester"


def test_the_broken_link_reopens_with_the_reason(client, resolved):
    path = links()["broken"]
    html = client.post(path, {"reason": ""}).content.decode()
    assert "Say what is still wrong" in html
    assert state_of(resolved) == "resolved"
    html = client.post(path, {"reason": "Still drops at noon"}).content.decode()
    assert "INC-000001 is reopened" in html
    reopened = Incident.objects.get(pk=resolved.pk)
    assert reopened.state == "diagnosing"
    assert reopened.events.last().reason == "Still drops at noon"


def test_a_used_link_does_not_work_again(client, resolved):
    fixed, broken = links()["fixed"], links()["broken"]
    client.post(broken, {"reason": "Still drops"})
    for path in (broken, fixed):
        response = client.get(path)
        assert response.status_code == 410
        assert "This link has already been used: INC-000001 was reopened" in (
            response.content.decode()
        )
        client.post(path, {"reason": "again", "rating": "1"})
    reopened = Incident.objects.get(pk=resolved.pk)
    assert (reopened.state, reopened.reopen_count) == ("diagnosing", 1)


def test_a_tampered_link_is_refused(client, resolved):
    path = links()["fixed"]
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    for response in (client.get(forged), client.post(forged, {"rating": "5"})):
        assert_plain_404(client, response, "INC-000001", resolved.title)
    assert state_of(resolved) == "resolved"


def test_a_link_signed_for_another_purpose_is_refused(client, resolved):
    from django.core import signing

    payload = {"t": resolved.tenant_id, "i": resolved.pk, "a": "fixed", "v": resolved.version}
    other = signing.dumps(payload, salt="portal.unsubscribe-link", compress=True)
    path = links()["fixed"]
    token = path.rstrip("/").rsplit("/", 1)[1]
    response = client.post(path.replace(token, other), {"rating": "5"})
    assert_plain_404(client, response, "INC-000001", resolved.title)
    assert state_of(resolved) == "resolved"


def test_an_expired_link_is_refused(client, resolved, settings):
    settings.ANSWER_LINK_MAX_AGE = 1
    path = links()["fixed"]
    time.sleep(2.1)
    for response in (client.get(path), client.post(path, {"rating": "5"})):
        assert response.status_code == 410
        assert "This link has expired." in response.content.decode()
    assert state_of(resolved) == "resolved"


def test_a_link_only_works_for_its_own_incident(client, desk, resolved):
    path = links()["fixed"]
    other = desk.resolve(desk.report(title="Second problem"))
    token = path.rstrip("/").rsplit("/", 1)[1]
    wrong = path.replace("/incidents/1/", f"/incidents/{other.number}/")
    assert token in wrong and wrong != path
    response = client.post(wrong, {"rating": "5"})
    assert_plain_404(client, response, "INC-000001", "INC-000002", "Second problem", resolved.title)
    assert state_of(other) == "resolved" and state_of(resolved) == "resolved"


def test_a_link_for_an_incident_no_longer_resolved_says_so(client, people, desk, resolved):
    path = links()["fixed"]
    desk.run(
        services.incident_reopen,
        incident=resolved,
        actor=people.actor(people.alice),
        reason="Found another fault",
    )
    response = client.get(path)
    assert response.status_code == 410
    assert "INC-000001 is in progress now, not waiting for your answer" in (
        response.content.decode()
    )


def test_a_link_stops_working_once_the_incident_changes(client, desk, resolved):
    path = links()["fixed"]
    desk.reply(resolved, "PS: we also renewed the other certificate.")
    response = client.post(path, {"rating": "5"})
    assert response.status_code == 410
    assert "has changed since this email was sent" in response.content.decode()
    assert state_of(resolved) == "resolved"


def test_a_second_resolution_sends_fresh_links(client, people, desk, resolved):
    old = links()["fixed"]
    client.post(links()["broken"], {"reason": "Not yet"})
    again = desk.resolve(Incident.objects.get(pk=resolved.pk))
    fresh = links()["fixed"]
    assert fresh != old
    assert client.get(old).status_code == 410
    client.post(fresh, {"rating": "3"})
    assert state_of(again) == "closed"


def test_affected_users_get_the_resolved_email_without_links(people, desk, paul):
    incident = desk.report()
    desk.join(incident, paul)
    mail.outbox.clear()
    desk.resolve(incident)
    to_paul = [m for m in mails_to("paul@acme.test") if "Resolved:" in m.subject]
    assert len(to_paul) == 1
    assert "/answer/" not in to_paul[0].body
    assert "/answer/" in [m for m in mails_to("rita@acme.test") if "Resolved:" in m.subject][0].body


def test_a_damaged_link_shows_no_title_and_answers_as_for_a_missing_incident(client, resolved):
    """The security review's probe: without logging in, `answer/x/` printed the incident's number
    and title (400), and answered 404 only for numbers that did not exist."""
    base = "/t/acme/portal/incidents"
    for kind in ("answer", "unsubscribe"):
        for number in (resolved.number, 999):
            for method in (client.get, client.post):
                response = method(f"{base}/{number}/{kind}/x/")
                assert_plain_404(client, response, resolved.reference, resolved.title)
