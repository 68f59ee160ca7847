"""External contacts: people without an account, known by their address. The contact an incident
was reported for is its reporter; others are added as affected contacts. They get its mail (with
a link to follow it instead of the portal's page), reply, and hear when it is cancelled."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from incidents import services
from incidents.models import Incident, IncidentContact, IncidentEvent, IncidentMute
from incidents.notifications import people_to_notify
from incidents.rules import is_reporter, takes_part
from tenancy.actors import Actor
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.build import requester

CAROL = "carol@example.com"  # reported by mail, no account


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and deliver what it queued, as a worker would after commit."""

    def _run(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return _run


def carol(people) -> Actor:
    return Actor.contact(people.acme, name="Carol Customer", email="Carol@Example.COM")


@pytest.fixture
def carols(people, run) -> Incident:
    """An incident reported by Carol, who has no account (as the mail intake reports one)."""
    incident = run(
        services.incident_report,
        actor=carol(people),
        title="Printer on floor 3 jams",
        category=people.network,
        contact_name="Carol Customer",
        contact_email=CAROL,
    )
    mail.outbox.clear()
    return Incident.objects.get(pk=incident.pk)


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]


def alice(people) -> Actor:
    return people.actor(people.alice)


# --- The actor ------------------------------------------------------------------------------


def test_a_contact_actor_is_a_requester_without_a_user(people):
    actor = Actor.contact(people.acme, name="", email=" Dan@Example.COM ")
    assert (actor.kind, actor.role, actor.name, actor.email) == (
        "contact",
        "requester",
        "dan@example.com",
        "dan@example.com",
    )
    assert actor.user is None and actor.user_id is None
    assert actor.is_requester and not actor.is_agent_or_above and not actor.is_system
    assert actor.event_fields() == {
        "actor_kind": "contact",
        "actor_user": None,
        "actor_name": "dan@example.com",
    }


def test_the_reporting_contact_is_the_reporter_whatever_the_case_of_the_address(people, carols):
    assert carols.reporter_id is None and carols.contact_email == CAROL
    assert is_reporter(Actor.contact(people.acme, name="C", email="CAROL@example.com"), carols)
    assert not is_reporter(Actor.contact(people.acme, name="D", email="dan@example.com"), carols)
    assert not is_reporter(people.actor(people.rita), carols)
    event = IncidentEvent.objects.get(incident=carols, kind="reported")
    assert (event.actor_kind, event.actor_name, event.actor_user) == (
        "contact",
        "Carol Customer",
        None,
    )


def test_a_contact_named_beside_a_member_reporter_is_not_the_reporter(people, run):
    incident = run(
        services.incident_report,
        actor=people.actor(people.rita),
        title="Shared drive is read-only",
        contact_email=CAROL,
    )
    assert incident.reporter_id == people.rita.pk
    assert not is_reporter(carol(people), incident)
    assert is_reporter(people.actor(people.rita), incident)


# --- Adding affected contacts ---------------------------------------------------------------


def test_an_agent_adds_an_affected_contact_with_a_joined_event(people, carols):
    seen = carols.version
    added = services.incident_contact_add(
        incident=carols, actor=alice(people), email=" Dan@Example.com ", name="Dan  Dobbs"
    )
    assert added is True
    contact = IncidentContact.objects.get(incident=carols)
    assert (contact.email, contact.name, contact.tenant_id) == (
        "dan@example.com",
        "Dan Dobbs",
        people.acme.pk,
    )
    stored = Incident.objects.get(pk=carols.pk)
    assert (stored.affected_count, stored.version) == (2, seen + 1)
    assert (carols.affected_count, carols.version) == (2, seen + 1)  # the caller's copy too
    event = IncidentEvent.objects.filter(incident=carols).last()
    assert (event.kind, event.public, event.reason, event.data) == (
        "joined",
        True,
        "Dan Dobbs is affected too",
        {"contact": "dan@example.com", "via": None},
    )


def test_adding_an_address_that_already_follows_changes_nothing(people, run, carols, paul):
    run(services.incident_join, incident=carols, actor=people.actor(paul), user=paul)
    services.incident_contact_add(incident=carols, actor=alice(people), email="dan@example.com")
    before = Incident.objects.get(pk=carols.pk)
    for address in (
        "DAN@example.com",  # already an affected contact
        "carol@EXAMPLE.com",  # the reporting contact's own address
        "Paul@acme.test",  # an affected member's
    ):
        added = services.incident_contact_add(incident=carols, actor=alice(people), email=address)
        assert added is False, address
    after = Incident.objects.get(pk=carols.pk)
    assert (after.version, after.affected_count) == (before.version, before.affected_count)
    assert IncidentContact.objects.filter(incident=carols).count() == 1


def test_the_member_reporters_own_address_is_not_added(people, run):
    incident = run(services.incident_report, actor=people.actor(people.rita), title="No VPN")
    added = services.incident_contact_add(
        incident=incident, actor=alice(people), email="RITA@acme.test"
    )
    assert added is False
    assert not IncidentContact.objects.exists()


def test_a_malformed_address_is_refused_naming_the_field(people, carols):
    for address in ("", "dan at example.com", "dan@"):
        with pytest.raises(InvalidInput) as refused:
            services.incident_contact_add(incident=carols, actor=alice(people), email=address)
        assert refused.value.field == "email"
        assert "is not an email address" in refused.value.message
    assert not IncidentContact.objects.exists()


def test_only_the_desk_and_people_taking_part_add_contacts(people, carols):
    stranger = requester(people)
    with pytest.raises(NotAllowed):
        services.incident_contact_add(
            incident=carols, actor=people.actor(stranger), email="dan@example.com"
        )
    outsider = Actor.contact(people.acme, name="Eve", email="eve@example.com")
    with pytest.raises(NotAllowed):
        services.incident_contact_add(incident=carols, actor=outsider, email="eve@example.com")
    # The reporting contact copies a colleague in (a reply-all to the desk, say).
    assert services.incident_contact_add(
        incident=carols, actor=carol(people), email="dan@example.com", name="Dan"
    )
    system = Actor.system(people.acme, "Mail intake")
    assert services.incident_contact_add(incident=carols, actor=system, email="fay@example.com")
    assert set(IncidentContact.objects.values_list("email", flat=True)) == {
        "dan@example.com",
        "fay@example.com",
    }


def test_no_contact_is_added_to_a_closed_incident(people, carols):
    Incident.objects.filter(pk=carols.pk).update(state="cancelled")
    with pytest.raises(InvalidInput, match="no longer open"):
        services.incident_contact_add(
            incident=Incident.objects.get(pk=carols.pk),
            actor=alice(people),
            email="dan@example.com",
        )


def test_a_long_display_name_is_cut_rather_than_refused(people, carols):
    services.incident_contact_add(
        incident=carols, actor=alice(people), email="dan@example.com", name="D" * 400
    )
    assert len(IncidentContact.objects.get().name) == 150


def test_a_contact_with_a_long_address_acts_under_a_name_that_fits(people, carols):
    actor = Actor.contact(people.acme, name="", email=("x" * 200) + "@example.com")
    assert len(actor.name) == 150 and actor.email.endswith("@example.com")


# --- Who is told ----------------------------------------------------------------------------


def test_affected_contacts_are_told_once_each_and_mutes_hold(people, run, carols, paul):
    run(services.incident_join, incident=carols, actor=people.actor(paul), user=paul)
    for address in ("dan@example.com", "fay@example.com"):
        services.incident_contact_add(incident=carols, actor=alice(people), email=address)
    IncidentMute.objects.create(tenant=people.acme, incident=carols, address="fay@example.com")
    told = [address for _user, address in people_to_notify(carols)]
    assert told == [CAROL, "paul@acme.test", "dan@example.com"]
    assert [user for user, _ in people_to_notify(carols)][1] == paul


def test_mail_to_a_contact_links_to_the_follow_page_and_never_the_portal(people, run, carols):
    services.incident_contact_add(incident=carols, actor=alice(people), email="dan@example.com")
    incident = run(services.incident_accept, incident=carols, actor=alice(people))
    run(services.comment_add, incident=incident, actor=alice(people), body="Which tray jams?")
    for address in (CAROL, "dan@example.com"):
        for sent in mails_to(address):
            assert "/follow/" in sent.body, sent.subject
            # Only signed links: the portal's page would ask them to log in.
            urls = re.findall(r"https?://\S+", sent.body)
            assert all(re.search(r"/(follow|answer|unsubscribe)/", u) for u in urls), urls
            assert "write your reply there" not in sent.body
    reply = [m for m in mails_to(CAROL) if "New reply" in m.subject][0]
    assert "To answer, reply to this email." in reply.body
    assert "Which tray jams?" in reply.body


def test_the_resolved_mail_gives_the_reporting_contact_the_answer_links(people, run, carols):
    services.incident_contact_add(incident=carols, actor=alice(people), email="dan@example.com")
    incident = run(services.incident_accept, incident=carols, actor=alice(people))
    run(
        services.incident_resolve,
        incident=incident,
        actor=alice(people),
        resolution_code="solved-permanently",
        resolution_notes="Replaced the fuser.",
    )
    to_carol = [m for m in mails_to(CAROL) if "Resolved:" in m.subject][0]
    assert re.search(r"Yes, it's fixed:\s+\S+/answer/\S+", to_carol.body)
    assert re.search(r"No, still broken:\s+\S+/answer/\S+", to_carol.body)
    assert "incident page" not in to_carol.body
    to_dan = [m for m in mails_to("dan@example.com") if "Resolved:" in m.subject][0]
    assert "/answer/" not in to_dan.body
    assert "incident page" not in to_dan.body
    assert "If it is still broken for you, answer this email and say so." in to_dan.body


# --- Replies --------------------------------------------------------------------------------


def test_the_reporting_contact_and_an_affected_contact_reply_in_public(people, run, carols):
    services.incident_contact_add(incident=carols, actor=alice(people), email="dan@example.com")
    dan = Actor.contact(people.acme, name="Dan", email="dan@example.com")
    assert takes_part(carol(people), carols) and takes_part(dan, carols)
    first = services.comment_add(incident=carols, actor=carol(people), body="Tray 2, every time")
    second = services.comment_add(incident=carols, actor=dan, body="Mine too")
    assert (first.public, first.author, first.author_name) == (True, None, "Carol Customer")
    assert (second.public, second.author_name) == (True, "Dan")
    events = IncidentEvent.objects.filter(incident=carols, kind="comment")
    assert [(e.actor_kind, e.actor_name) for e in events] == [
        ("contact", "Carol Customer"),
        ("contact", "Dan"),
    ]


def test_a_contact_writes_no_internal_note_and_a_stranger_nothing(people, carols):
    with pytest.raises(NotAllowed, match="Only the desk's agents can write internal notes"):
        services.comment_add(incident=carols, actor=carol(people), body="psst", public=False)
    eve = Actor.contact(people.acme, name="Eve", email="eve@example.com")
    with pytest.raises(NotAllowed, match="only comment on incidents you reported or joined"):
        services.comment_add(incident=carols, actor=eve, body="Let me in")
    assert not carols.comments.exists()


def test_the_contacts_answer_resumes_an_incident_awaiting_them(people, run, carols):
    incident = run(services.incident_accept, incident=carols, actor=alice(people))
    run(
        services.incident_hold,
        incident=incident,
        actor=alice(people),
        hold_reason="awaiting_caller",
        note="Which tray?",
    )
    awaiting = [m for m in mails_to(CAROL) if "We need your answer" in m.subject][0]
    assert "Reply to this email with your answer" in awaiting.body
    assert "Reply on the incident page" not in awaiting.body
    services.comment_add(incident=Incident.objects.get(pk=carols.pk), actor=carol(people), body="2")
    assert Incident.objects.get(pk=carols.pk).state == "diagnosing"


# --- Cancelled ------------------------------------------------------------------------------


@pytest.fixture
def paul(people):
    return requester(people, email="paul@acme.test")


def test_the_member_reporter_is_told_of_a_cancellation_and_why(people, run):
    incident = run(services.incident_report, actor=people.actor(people.rita), title="Odd noise")
    mail.outbox.clear()
    run(
        services.incident_cancel,
        incident=incident,
        actor=alice(people),
        reason="Raised by mistake; the noise is the new air conditioning.",
    )
    [sent] = mail.outbox
    assert sent.to == ["rita@acme.test"]
    assert sent.subject == "[INC-000001] Cancelled: Odd noise"
    assert "Why: Raised by mistake; the noise is the new air conditioning." in sent.body
    assert "report a new incident" in sent.body
    assert "/t/acme/portal/incidents/1/" in sent.body


def test_a_duplicates_member_reporter_is_sent_to_the_original(people, run):
    original = run(services.incident_report, actor=people.actor(people.alice), title="Wi-Fi down")
    duplicate = run(
        services.incident_report, actor=people.actor(people.rita), title="No wireless on 2"
    )
    mail.outbox.clear()
    run(
        services.incident_cancel,
        incident=duplicate,
        actor=alice(people),
        duplicate_of=original,
        reason="",
    )
    [sent] = mails_to("rita@acme.test")
    assert sent.subject == "[INC-000002] Cancelled as a duplicate of INC-000001: No wireless on 2"
    assert 'INC-000001 "Wi-Fi down"' in sent.body
    assert "/t/acme/portal/incidents/1/" in sent.body  # she joined it, so she can open it
    assert "/follow/" not in sent.body
    assert "Why:" not in sent.body  # "Duplicate of INC-000001" would only repeat the subject


def test_a_duplicates_contact_reporter_gets_the_originals_follow_link(people, run, carols):
    original = run(services.incident_report, actor=people.actor(people.rita), title="Printers")
    services.incident_contact_add(incident=carols, actor=alice(people), email="dan@example.com")
    mail.outbox.clear()
    run(
        services.incident_cancel,
        incident=carols,
        actor=alice(people),
        duplicate_of=original,
        reason="Same jam: the toner batch",
    )
    [sent] = mails_to(CAROL)  # the reporter only; Dan follows the original from now on
    assert "Cancelled as a duplicate of INC-000002" in sent.subject
    assert 'INC-000002 "Printers"' in sent.body
    assert "Why: Same jam: the toner batch" in sent.body
    links = re.findall(r"http\S+/follow/\S+", sent.body)
    assert links and all("/incidents/2/follow/" in link for link in links)
    assert "/portal/incidents/2/\n" not in sent.body
    assert mails_to("dan@example.com") == []
    # Both contacts of the duplicate now follow the original, as its members do.
    contacts = IncidentContact.objects.filter(incident=original).order_by("id")
    assert [(c.email, c.name) for c in contacts] == [
        (CAROL, "Carol Customer"),
        ("dan@example.com", ""),
    ]
    stored = Incident.objects.get(pk=original.pk)
    assert stored.affected_count == 3
    joined = IncidentEvent.objects.filter(incident=original, kind="joined")
    assert {e.data["contact"]: e.data["via"] for e in joined} == {
        CAROL: "INC-000001",
        "dan@example.com": "INC-000001",
    }


def test_a_reporter_who_stopped_emails_is_not_told(people, run, carols):
    IncidentMute.objects.create(tenant=people.acme, incident=carols, address=CAROL)
    run(services.incident_cancel, incident=carols, actor=alice(people), reason="Test report")
    assert mail.outbox == []
