"""Following an incident, @mentions in internal notes, and the desk's timeline: notifications
folded into one line per event, and newest first on request (?order=newest)."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.urls import reverse

from escalation.models import IncidentWatcher, Notification
from escalation.services.following import incident_watch, mail_preferences_set
from escalation.services.mentions import mention_names
from incidents import services
from incidents.models import Incident
from tenancy.models import Membership, Role
from tests.desk.desk_support import action_url, detail_url, fresh, routed
from tests.factories import UserFactory

pytestmark = pytest.mark.postgres


def follow_url(incident: Incident) -> str:
    return reverse(
        "desk-incident-follow", kwargs={"tenant_slug": "acme", "number": incident.number}
    )


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return htmllib.unescape(response.content.decode())


def told(incident: Incident, user) -> list[tuple[str, str, str]]:
    """(channel, kind, subject) of the rows telling `user` about the incident."""
    rows = Notification.objects.filter(
        incident_id=incident.pk, recipient=user, kind__startswith="told_"
    )
    return list(rows.order_by("id").values_list("channel", "kind", "subject"))


def accepted(people, title: str = "VPN drops") -> Incident:
    return services.incident_accept(
        incident=routed(people, title), actor=people.actor(people.alice)
    )


# --- following --------------------------------------------------------------------------------
def test_an_agent_follows_and_unfollows_from_the_incident_page(people, login):
    incident = accepted(people)
    client = login(people.bob)
    before = page(client, detail_url(incident))
    assert ">Follow</button>" in before and "Nobody follows it yet" in before
    response = client.post(follow_url(incident), {"follow": "1"})
    assert response.status_code == 302
    after = page(client, response["Location"])
    assert ">Following</button>" in after and "Followed by Bob Agent" in after
    assert "You follow INC-000001." in after
    assert IncidentWatcher.objects.filter(incident_id=incident.pk, user=people.bob).count() == 1
    client.post(follow_url(incident), {"follow": "1"})  # twice is once
    assert IncidentWatcher.objects.filter(incident_id=incident.pk).count() == 1
    client.post(follow_url(incident), {"follow": "0"})
    assert ">Follow</button>" in page(client, detail_url(incident))
    assert not IncidentWatcher.objects.filter(incident_id=incident.pk).exists()


def test_the_follow_button_answers_htmx_with_itself(people, login):
    incident = accepted(people)
    client = login(people.bob)
    response = client.post(follow_url(incident), {"follow": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<form id="follow"') and ">Following</button>" in fragment
    assert "<html" not in fragment


def test_only_the_desks_staff_follow_and_only_their_own_tenants_incidents(people, login):
    incident = accepted(people)
    assert login(people.rita).post(follow_url(incident), {"follow": "1"}).status_code == 404
    globex = reverse("desk-incident-follow", kwargs={"tenant_slug": "globex", "number": 1})
    assert login(people.alice).post(globex, {"follow": "1"}).status_code == 404
    assert not IncidentWatcher.objects.exists()


def test_a_follower_is_told_of_replies_notes_and_state_changes_by_others(people):
    incident = accepted(people)
    incident_watch(incident=incident, actor=people.actor(people.bob))
    alice, bob = people.actor(people.alice), people.actor(people.bob)
    services.comment_add(incident=incident, actor=alice, body="Rebooting the gateway.")
    services.comment_add(incident=fresh(incident), actor=alice, body="DHCP storm", public=False)
    services.incident_hold(
        incident=fresh(incident), actor=alice, hold_reason="awaiting_vendor", note="Cisco TAC"
    )
    services.comment_add(incident=fresh(incident), actor=bob, body="My own note", public=False)
    ref = "[INC-000001]"
    subjects = [
        f"{ref} Alice Agent replied to the caller: VPN drops",
        f"{ref} Alice Agent added an internal note: VPN drops",
        f"{ref} Alice Agent moved it from In progress to On hold: VPN drops",
    ]
    kinds = ["told_reply", "told_note", "told_state"]
    assert told(incident, people.bob) == [
        (channel, kind, subject)
        for kind, subject in zip(kinds, subjects, strict=True)
        for channel in ("inapp", "email")
    ]
    assert told(incident, people.alice) == []  # she acted; bob's note is not news for her


def test_a_follower_is_told_once_when_the_caller_answers_and_work_resumes(people):
    incident = services.incident_hold(
        incident=accepted(people),
        actor=people.actor(people.alice),
        hold_reason="awaiting_caller",
        note="Which floor?",
    )
    incident_watch(incident=incident, actor=people.actor(people.bob))
    services.comment_add(incident=fresh(incident), actor=people.actor(people.rita), body="Third")
    assert [k for _, k, _ in told(incident, people.bob)] == ["told_reply", "told_reply"]


def test_an_unfollowed_incident_tells_nothing(people, login):
    incident = accepted(people)
    client = login(people.bob)
    client.post(follow_url(incident), {"follow": "1"})
    client.post(follow_url(incident), {"follow": "0"})
    services.comment_add(incident=fresh(incident), actor=people.actor(people.alice), body="Hi")
    assert told(incident, people.bob) == []


# --- @mentions --------------------------------------------------------------------------------
def test_the_mention_syntax():
    text = "@bob see this, and @max@acme.test too. Mail rita@acme.test (@Bob again)."
    assert mention_names(text) == ["bob", "max@acme.test"]
    assert mention_names("no one here, nor user@example.com") == []


def _note(people, incident: Incident, body: str, by=None) -> None:
    services.comment_add(
        incident=fresh(incident), actor=people.actor(by or people.alice), body=body, public=False
    )


def test_mentioning_a_member_in_a_note_tells_them_in_the_bell_and_by_mail(people, login):
    incident = accepted(people)
    _note(people, incident, "@bob can you check the DHCP logs? @max@acme.test FYI.")
    subject = "[INC-000001] Alice Agent mentioned you in a note: VPN drops"
    for user in (people.bob, people.max):
        assert told(incident, user) == [
            ("inapp", "told_mention", subject),
            ("email", "told_mention", subject),
        ]
    mail_row = Notification.objects.get(recipient=people.bob, channel="email")
    assert "can you check the DHCP logs?" in mail_row.body
    assert "Alice Agent mentioned you in an internal note" in mail_row.body


def test_a_requester_or_another_tenants_member_mentioned_is_not_told(people):
    incident = accepted(people)
    _note(people, incident, "@rita will not see this; nor @charlie or @charlie@globex.test")
    assert told(incident, people.rita) == [] and told(incident, people.charlie) == []
    assert not Notification.objects.filter(kind__startswith="told_").exists()


def test_a_shared_local_part_needs_the_whole_address(people):
    other_bob = UserFactory(email="bob@partner.test", full_name="Bob Partner")
    Membership.objects.create(tenant=people.acme, user=other_bob, role=Role.AGENT)
    incident = accepted(people)
    _note(people, incident, "@bob which one?")
    assert not Notification.objects.filter(kind__startswith="told_").exists()
    _note(people, incident, "@bob@partner.test this one")
    assert {k for _, k, _ in told(incident, other_bob)} == {"told_mention"}
    assert told(incident, people.bob) == []


def test_a_mention_of_a_follower_is_one_line_and_mentions_off_keeps_only_the_bell(people):
    incident = accepted(people)
    incident_watch(incident=incident, actor=people.actor(people.bob))
    mail_preferences_set(
        actor=people.actor(people.bob),
        my_incidents=False,
        group_queue=True,
        mentions=False,
        sla_alerts=True,
    )
    _note(people, incident, "@bob look")
    assert told(incident, people.bob) == [
        ("inapp", "told_mention", "[INC-000001] Alice Agent mentioned you in a note: VPN drops")
    ]


def test_a_mention_in_a_public_reply_tells_nobody(people):
    incident = accepted(people)
    services.comment_add(incident=incident, actor=people.actor(people.alice), body="@bob hi")
    assert told(incident, people.bob) == []


def test_the_note_form_explains_the_mention_syntax(people, login):
    html = page(login(people.alice), detail_url(accepted(people)))
    assert "Mention a colleague to tell them: @ and their email address" in html


# --- the timeline -----------------------------------------------------------------------------
def _timeline(html: str) -> str:
    return html.split('aria-label="Timeline"', 1)[1]


def test_notifications_fold_into_one_line_per_event(people, login):
    incident = routed(people)  # the acknowledgement mails rita
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Still down")
    html = _timeline(page(login(people.alice), detail_url(incident)))
    # The reply told alice and bob in the bell and by mail: one line, the rows folded inside.
    assert html.count("Mailed 2 people, told 2 in the bell") == 1
    assert html.count('data-testid="told"') == 2  # the report's line and the reply's
    assert "Mailed 1 person" in html  # the acknowledgement to rita
    assert "Email to bob@acme.test" in html  # unfolded on demand (<details>)
    assert '<li class="tl-notification">' not in html  # no line per notification


def test_the_timeline_reads_newest_first_on_request_and_keeps_it(people, login):
    incident = accepted(people)
    alice = people.actor(people.alice)
    services.comment_add(incident=incident, actor=alice, body="First words")
    services.comment_add(incident=fresh(incident), actor=alice, body="Last words")
    client = login(people.bob)
    oldest = _timeline(page(client, detail_url(incident)))
    assert oldest.index("First words") < oldest.index("Last words")
    assert "Oldest first" in oldest and 'href="?order=newest"' in oldest
    newest = page(client, detail_url(incident) + "?order=newest")
    assert _timeline(newest).index("Last words") < _timeline(newest).index("First words")
    assert "Show oldest first" in newest
    # The actions post back to the same order, and land on it.
    assert re.search(r'action="[^"]*/do/reply/\?order=newest"', newest)
    response = client.post(
        action_url(incident, "reply") + "?order=newest",
        {"reply-expected_version": fresh(incident).version, "reply-body": "Mine"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?order=newest")


def test_the_portal_timeline_reads_newest_first_too(people, login):
    incident = accepted(people)
    services.comment_add(incident=incident, actor=people.actor(people.alice), body="First words")
    services.comment_add(
        incident=fresh(incident), actor=people.actor(people.alice), body="Last words"
    )
    url = reverse("portal-incident-detail", kwargs={"tenant_slug": "acme", "number": 1})
    client = login(people.rita)
    oldest = page(client, url)
    assert oldest.index("First words") < oldest.index("Last words")
    newest = page(client, url + "?order=newest")
    assert newest.index("Last words") < newest.index("First words")
    assert "/incidents/1/timeline/?order=newest" in newest  # its live refresh keeps the order
    fragment = page(client, reverse("portal-incident-timeline", args=["acme", 1]) + "?order=newest")
    assert fragment.index("Last words") < fragment.index("First words")
