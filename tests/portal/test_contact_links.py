"""What a contact without an account does by the links in their mail: follow the incident on a
signed, read-only page of its public story, and answer its resolution (fixed and rated, or still
broken). Links follow the signed-link rules: checked first (else the plain 404), opening changes
nothing, once, expiring (a genuine spent link answers 410)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from incidents import services
from incidents.links import answer_url, follow_url
from incidents.models import Incident, IncidentEvent
from portal.services import incident_answer
from tenancy.actors import Actor
from tenancy.errors import NotAllowed
from tests.links import assert_plain_404
from tests.portal.conftest import mails_to

CAROL = "carol@example.com"


def contact(people, email: str = CAROL, name: str = "Carol Customer") -> Actor:
    return Actor.contact(people.acme, name=name, email=email)


@pytest.fixture
def carols(people, desk) -> Incident:
    """Carol, who has no account, reported it (as the mail intake does); Dan is affected."""
    incident = desk.run(
        services.incident_report,
        actor=contact(people),
        title="Printer on floor 3 jams",
        description="Paper jams in tray 2.",
        category=people.network,
        contact_name="Carol Customer",
        contact_email=CAROL,
    )
    desk.run(
        services.incident_contact_add,
        incident=incident,
        actor=people.actor(people.alice),
        email="dan@example.com",
        name="Dan",
    )
    return Incident.objects.get(pk=incident.pk)


def path_of(url: str) -> str:
    return urlparse(url).path


def follow_link(address: str = CAROL) -> str:
    """The follow link of the last mail to `address`, as a path."""
    body = mails_to(address)[-1].body
    found = re.findall(r"http\S+/follow/\S+/", body)
    assert found, body
    return path_of(found[-1])


def answer_links(address: str = CAROL) -> dict[str, str]:
    resolved = [m for m in mails_to(address) if "Resolved:" in m.subject][-1]
    found = dict(re.findall(r"(Yes, it's fixed|No, still broken):\s+(\S+)", resolved.body))
    return {
        "fixed": path_of(found["Yes, it's fixed"]),
        "broken": path_of(found["No, still broken"]),
    }


def state_of(incident: Incident) -> str:
    return Incident.objects.get(pk=incident.pk).state


# --- Following ------------------------------------------------------------------------------


def test_every_mail_to_a_contact_carries_a_follow_link_that_opens_without_a_log_in(
    client, desk, carols
):
    desk.reply(carols, "Which tray?")
    assert len(mails_to(CAROL)) >= 2 and len(mails_to("dan@example.com")) >= 1
    for address in (CAROL, "dan@example.com"):
        for sent in mails_to(address):
            assert "/follow/" in sent.body, sent.subject
    response = client.get(follow_link())
    html = response.content.decode()
    assert response.status_code == 200
    assert "INC-000001" in html and "Printer on floor 3 jams" in html
    assert "Paper jams in tray 2." in html
    assert "Log out" not in html  # nobody was logged in by the link


def test_the_follow_page_shows_the_public_story_and_no_internal_note(client, desk, carols):
    desk.reply(carols, "Please try tray 1 meanwhile.")
    desk.reply(carols, "Internal: the fuser is worn, order part 55-X", public=False)
    html = client.get(follow_link()).content.decode()
    assert "Please try tray 1 meanwhile." in html
    assert "fuser is worn" not in html and "55-X" not in html
    assert "reported the incident" in html
    assert "Someone else</strong> has the same problem" in html  # Dan, not named


def test_an_affected_contact_sees_their_own_joining_as_theirs(client, desk, carols):
    desk.reply(carols, "Which tray?")
    html = client.get(follow_link("dan@example.com")).content.decode()
    assert "You</strong> joined: this is your problem too" in html


def test_opening_a_follow_link_changes_nothing(client, carols):
    before = Incident.objects.get(pk=carols.pk)
    events = IncidentEvent.objects.filter(incident=carols).count()
    for _ in range(2):
        assert client.get(follow_link()).status_code == 200
    after = Incident.objects.get(pk=carols.pk)
    assert (after.version, after.state) == (before.version, before.state)
    assert IncidentEvent.objects.filter(incident=carols).count() == events


def test_a_follow_link_is_read_only(client, carols):
    response = client.post(follow_link(), {"body": "hello", "rating": "5", "muted": "1"})
    assert response.status_code == 405
    assert not carols.comments.exists() and not carols.mutes.exists()


def test_the_timeline_refreshes_through_the_same_link(client, desk, carols):
    path = follow_link()
    desk.reply(carols, "Engineer on the way.")
    response = client.get(path, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<ol class="timeline"' in html and f'hx-get="{path}"' in html
    assert "Engineer on the way." in html and "<html" not in html


def test_public_files_download_by_the_link_and_internal_ones_do_not(client, people, desk, carols):
    alice = people.actor(people.alice)
    public = desk.run(
        services.attachment_add,
        incident=carols,
        actor=alice,
        upload=SimpleUploadedFile("steps.txt", b"open tray 2", content_type="text/plain"),
    )
    internal = desk.run(
        services.attachment_add,
        incident=carols,
        actor=alice,
        upload=SimpleUploadedFile("quote.txt", b"part costs 300", content_type="text/plain"),
        public=False,
    )
    path = follow_link()
    html = client.get(path).content.decode()
    assert f'href="{path}files/{public.pk}/"' in html and "quote.txt" not in html
    response = client.get(f"{path}files/{public.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"open tray 2"
    assert_plain_404(client, client.get(f"{path}files/{internal.pk}/"), "quote.txt")


def test_a_damaged_or_misplaced_follow_link_is_the_plain_404(client, people, desk, carols):
    path = follow_link()
    token = path.rstrip("/").rsplit("/", 1)[1]
    other = desk.report(title="Second problem")
    damaged = path.replace(token, token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB"))
    wrong_number = path.replace("/incidents/1/", f"/incidents/{other.number}/")
    wrong_tenant = path.replace("/t/acme/", "/t/globex/")
    for bad in (damaged, wrong_number, wrong_tenant, f"{damaged}files/1/"):
        assert_plain_404(client, client.get(bad), "INC-000001", carols.title, "Second problem")
    # An answer link is no follow link, though both are genuine and for this incident.
    answer_token = path_of(answer_url(carols, "fixed")).rstrip("/").rsplit("/", 1)[1]
    assert_plain_404(client, client.get(path.replace(token, answer_token)), carols.title)


def test_an_expired_follow_link_says_so(client, carols, settings):
    path = follow_link()
    settings.FOLLOW_LINK_MAX_AGE = 1
    time.sleep(2.1)
    for response in (client.get(path), client.get(f"{path}files/1/")):
        html = response.content.decode()
        assert response.status_code == 410
        assert "This link has expired: links to follow an incident last 1 days." in html
        assert "Use the link in our latest email about INC-000001" in html
        assert carols.title not in html and "tray 2" not in html


def test_a_genuine_link_for_an_address_that_does_not_follow_is_gone(client, carols):
    path = path_of(follow_url(carols, "eve@example.com"))
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 410
    assert "eve@example.com no longer follows INC-000001" in html
    assert carols.title not in html


# --- Answering the resolution ---------------------------------------------------------------


@pytest.fixture
def resolved(desk, carols) -> Incident:
    mail.outbox.clear()
    return desk.resolve(Incident.objects.get(pk=carols.pk))


def test_the_reporting_contact_confirms_and_rates_by_the_link(client, resolved):
    path = answer_links()["fixed"]
    html = client.get(path).content.decode()
    assert "Yes, it's fixed" in html and "Nothing changes until you press the button." in html
    assert state_of(resolved) == "resolved"
    html = client.post(path, {"rating": "4", "comment": "Quick, thanks"}).content.decode()
    assert "Thank you. INC-000001 is closed, and you rated the help 4 out of 5." in html
    closed = Incident.objects.get(pk=resolved.pk)
    assert (closed.state, closed.satisfaction_rating) == ("closed", 4)
    event = closed.events.filter(kind="transition").last()
    assert (event.transition, event.actor_kind, event.actor_name, event.actor_user) == (
        "close",
        "contact",
        "Carol Customer",
        None,
    )
    assert event.data["on_reporters_word"] is True


def test_the_reporting_contact_reopens_by_the_link_with_a_reason(client, resolved):
    path = answer_links()["broken"]
    html = client.post(path, {"reason": ""}).content.decode()
    assert "Say what is still wrong" in html
    html = client.post(path, {"reason": "Jammed again at noon"}).content.decode()
    assert "INC-000001 is reopened" in html
    reopened = Incident.objects.get(pk=resolved.pk)
    assert reopened.state == "diagnosing"
    assert reopened.events.last().reason == "Jammed again at noon"


def test_a_used_contact_link_is_gone_and_says_how_it_was_used(client, resolved):
    links = answer_links()
    client.post(links["fixed"], {"rating": "5"})
    for path in links.values():
        response = client.get(path)
        html = response.content.decode()
        assert response.status_code == 410
        assert "This link has already been used: INC-000001 was closed on" in html
        client.post(path, {"reason": "again", "rating": "1"})
    closed = Incident.objects.get(pk=resolved.pk)
    assert (closed.state, closed.satisfaction_rating, closed.reopen_count) == ("closed", 5, 0)


def test_a_spent_contact_link_never_tells_them_to_log_in(client, desk, resolved):
    path = answer_links()["fixed"]
    desk.reply(resolved, "PS: we also cleaned tray 1.")
    html = client.get(path).content.decode()
    assert "has changed since this email was sent" in html
    assert "Log in" not in html.split("</header>", 1)[1]
    assert "Open INC-000001 from the link in our latest email about it" in html


def test_the_follow_page_of_a_resolved_incident_offers_its_reporter_the_answers(
    client, desk, resolved
):
    # A reply after the resolved mail retires its links; the follow page gives fresh ones.
    desk.reply(resolved, "PS: we also cleaned tray 1.")
    assert client.get(answer_links()["fixed"]).status_code == 410
    html = client.get(follow_link()).content.decode()
    links = re.findall(r'href="http[^"]+(/t/acme/portal/incidents/1/answer/[^"]+/)"', html)
    assert len(links) == 2
    assert state_of(resolved) == "resolved"  # opening the page did not answer
    response = client.post(links[0], {"rating": "5"})
    assert "Thank you. INC-000001 is closed" in response.content.decode()
    assert state_of(resolved) == "closed"


def test_an_affected_contact_is_not_offered_the_answers(client, resolved):
    html = client.get(follow_link("dan@example.com")).content.decode()
    assert "/answer/" not in html
    assert "Waiting for the person who reported it to confirm it is fixed." in html
    to_dan = [m for m in mails_to("dan@example.com") if "Resolved:" in m.subject][0]
    assert "/answer/" not in to_dan.body


def test_only_the_reporting_contact_may_answer(people, resolved):
    dan = contact(people, "dan@example.com", "Dan")
    with pytest.raises(NotAllowed, match="Only the person who reported"):
        incident_answer(
            incident=resolved, actor=dan, action="fixed", expected_version=resolved.version
        )
    with pytest.raises(NotAllowed):
        incident_answer(
            incident=resolved,
            actor=people.actor(people.rita),
            action="broken",
            reason="no",
            expected_version=resolved.version,
        )
    closed = incident_answer(
        incident=resolved,
        actor=contact(people, "CAROL@example.com"),
        action="fixed",
        rating=5,
        expected_version=resolved.version,
    )
    assert closed.state == "closed"
