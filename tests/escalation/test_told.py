"""The desk is told when the caller side speaks: the assignee (or the group while unassigned)
gets a bell entry and a mail when the requester or an affected person replies, rejects a
resolution or rates it below 3, whatever the path (portal, API, the services the mail intake
calls). Mail follows each member's choices; the bell shows everything."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from escalation.models import MailPreferences, Notification
from escalation.services.alerts import alerts_notify_pending
from escalation.services.following import mail_preferences_set
from escalation.services.sweep import sweep_due
from escalation.services.told import is_caller_side
from incidents import services
from incidents.models import Incident, IncidentState
from tenancy.actors import Actor
from tenancy.models import Membership, Role
from tests.desk.desk_support import fresh, routed
from tests.escalation.sla_helpers import MONDAY_10, report_high, short_targets
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.postgres


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what commits would trigger (the outbox's eager delivery): mails reach mail.outbox,
    in-app rows become visible in the bell."""

    def _deliver():
        return django_capture_on_commit_callbacks(execute=True)

    return _deliver


def told(incident: Incident, *, to=None) -> list[tuple[str, str, str, str]]:
    """(channel, address, kind, subject) of every row telling the desk about the incident."""
    rows = Notification.objects.filter(incident_id=incident.pk, kind__startswith="told_")
    if to is not None:
        rows = rows.filter(recipient=to)
    return [(n.channel, n.address, n.kind, n.subject) for n in rows.order_by("id")]


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def accepted_by_alice(people, title: str = "VPN drops") -> Incident:
    return services.incident_accept(
        incident=routed(people, title), actor=people.actor(people.alice)
    )


def resolved_by_alice(people) -> Incident:
    incident = accepted_by_alice(people)
    return services.incident_resolve(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code="solved-permanently",
        resolution_notes="Renewed the certificate.",
    )


def portal_url(incident: Incident, name: str) -> str:
    return reverse(name, kwargs={"tenant_slug": "acme", "number": incident.number})


# --- replies ---------------------------------------------------------------------------------
def test_the_requesters_answer_in_the_portal_tells_the_assignee_in_the_bell_and_by_mail(
    people, login, deliver
):
    incident = services.incident_hold(
        incident=accepted_by_alice(people),
        actor=people.actor(people.alice),
        hold_reason="awaiting_caller",
        note="Which floor are you on?",
    )
    mail.outbox.clear()
    client = login(people.rita)
    with deliver():
        response = client.post(
            portal_url(incident, "portal-incident-comment"), {"body": "Third floor, by the lift."}
        )
    assert response.status_code == 302
    assert fresh(incident).state == IncidentState.DIAGNOSING  # the answer resumed it
    subject = "[INC-000001] Rita Requester answered (work resumes): VPN drops"
    # One line each, not a second one for the resume the answer caused; bob is not told.
    assert told(incident) == [
        ("inapp", "alice@acme.test", "told_reply", subject),
        ("email", "alice@acme.test", "told_reply", subject),
    ]
    (sent,) = mails_to("alice@acme.test")
    assert sent.subject == subject
    assert "Third floor, by the lift." in sent.body
    assert "/t/acme/desk/1/" in sent.body and "it is assigned to you" in sent.body
    assert "/t/acme/notifications/mail/" in sent.body  # where to change one's mail choices
    bell = login(people.alice).get(reverse("notifications-list", kwargs={"tenant_slug": "acme"}))
    assert subject in bell.content.decode()


def test_a_reply_while_unassigned_tells_the_groups_agents(people, deliver):
    incident = routed(people)  # with the Service Desk group, nobody holds it
    with deliver():
        services.comment_add(incident=incident, actor=people.actor(people.rita), body="Still down")
    subject = "[INC-000001] Rita Requester replied: VPN drops"
    assert sorted(told(incident)) == sorted(
        (channel, who, "told_reply", subject)
        for channel in ("inapp", "email")
        for who in ("alice@acme.test", "bob@acme.test")
    )
    (sent,) = mails_to("bob@acme.test")
    assert "it is unassigned in your group Service Desk" in sent.body


def test_a_reply_through_the_api_tells_the_assignee(people):
    incident = accepted_by_alice(people)
    api = APIClient()
    assert api.login(email="rita@acme.test", password=PASSWORD)
    response = api.post(
        f"/api/v1/incidents/{incident.reference}/comments/", {"body": "Any news?"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert [(c, a, k) for c, a, k, _ in told(incident)] == [
        ("inapp", "alice@acme.test", "told_reply"),
        ("email", "alice@acme.test", "told_reply"),
    ]


def test_an_affected_person_replying_tells_the_assignee(people):
    paul = UserFactory(email="paul@acme.test", full_name="Paul Affected")
    Membership.objects.create(tenant=people.acme, user=paul, role=Role.REQUESTER)
    incident = accepted_by_alice(people)
    services.incident_join(incident=incident, actor=people.actor(paul), user=paul)
    services.comment_add(incident=fresh(incident), actor=people.actor(paul), body="Me too")
    assert {s for *_, s in told(incident, to=people.alice)} == {
        "[INC-000001] Paul Affected replied: VPN drops"
    }


def test_an_external_contact_is_the_caller_side(people):
    incident = services.incident_report(
        actor=Actor.system(people.acme, "Monitoring"),
        title="Disk full",
        category=people.network,
        contact_name="Carol Outside",
        contact_email="carol@example.com",
    )
    carol = Actor.contact(people.acme, name="Carol Outside", email="carol@example.com")
    assert is_caller_side(carol, incident)
    assert not is_caller_side(people.actor(people.alice), incident)
    services.comment_add(incident=incident, actor=carol, body="Still full this morning")
    assert {(c, a) for c, a, *_ in told(incident)} == {
        (channel, who)
        for channel in ("inapp", "email")
        for who in ("alice@acme.test", "bob@acme.test")
    }


def test_the_desk_answering_tells_nobody_and_nobody_is_told_of_their_own_act(people):
    incident = accepted_by_alice(people)
    alice = people.actor(people.alice)
    services.comment_add(incident=incident, actor=alice, body="Looking into it.")
    services.comment_add(incident=fresh(incident), actor=alice, body="Gateway log", public=False)
    assert told(incident) == []
    # An agent who reported their own incident is its caller side, but not told of their act.
    own = services.incident_report(actor=alice, title="My screen", category=people.network)
    own = services.incident_accept(incident=own, actor=alice)
    services.comment_add(incident=own, actor=alice, body="It flickers again")
    assert told(own) == []


# --- answering a resolution -------------------------------------------------------------------
def test_still_broken_in_the_portal_tells_the_assignee_with_the_reason(people, login, deliver):
    incident = resolved_by_alice(people)
    mail.outbox.clear()
    with deliver():
        response = login(people.rita).post(
            portal_url(incident, "portal-incident-broken"),
            {"broken-reason": "It dropped again at noon.", "broken-version": incident.version},
        )
    assert response.status_code == 302
    subject = "[INC-000001] Rita Requester says it is still broken (reopened): VPN drops"
    assert told(incident) == [
        ("inapp", "alice@acme.test", "told_reopened", subject),
        ("email", "alice@acme.test", "told_reopened", subject),
    ]
    (sent,) = mails_to("alice@acme.test")
    assert "It dropped again at noon." in sent.body


@pytest.mark.parametrize(("rating", "told_alice"), [(2, True), (1, True), (3, False), (5, False)])
def test_a_close_rated_below_3_tells_the_assignee(people, login, rating, told_alice):
    incident = resolved_by_alice(people)
    response = login(people.rita).post(
        portal_url(incident, "portal-incident-fixed"),
        {"fixed-rating": rating, "fixed-comment": "Slow.", "fixed-version": incident.version},
    )
    assert response.status_code == 302
    assert fresh(incident).state == IncidentState.CLOSED
    subject = f"[INC-000001] Rita Requester closed it with a rating of {rating}/5: VPN drops"
    expected = [("inapp", "alice@acme.test", "told_low_rating", subject),
                ("email", "alice@acme.test", "told_low_rating", subject)]  # fmt: skip
    assert told(incident) == (expected if told_alice else [])


def test_an_agent_reopening_does_not_tell_the_assignee(people):
    incident = resolved_by_alice(people)
    services.incident_reopen(incident=incident, actor=people.actor(people.bob), reason="Oops")
    assert told(incident) == []


# --- mail choices -----------------------------------------------------------------------------
def _choose(people, user, **off):
    choices = {"my_incidents": True, "group_queue": True, "mentions": True, "sla_alerts": True}
    mail_preferences_set(actor=people.actor(user), **{**choices, **off})


def test_my_incidents_off_keeps_the_bell_but_stops_the_mail(people, login, deliver):
    _choose(people, people.alice, my_incidents=False)
    incident = accepted_by_alice(people)
    mail.outbox.clear()
    with deliver():
        services.comment_add(incident=incident, actor=people.actor(people.rita), body="Hello?")
    assert [c for c, *_ in told(incident)] == ["inapp"]
    assert mails_to("alice@acme.test") == []
    bell = login(people.alice).get(reverse("notifications-list", kwargs={"tenant_slug": "acme"}))
    assert "Rita Requester replied" in bell.content.decode()


def test_group_queue_off_stops_only_that_agents_group_mail(people):
    _choose(people, people.bob, group_queue=False)
    incident = routed(people)
    services.comment_add(incident=incident, actor=people.actor(people.rita), body="Hello?")
    assert sorted((c, a) for c, a, *_ in told(incident)) == [
        ("email", "alice@acme.test"),
        ("inapp", "alice@acme.test"),
        ("inapp", "bob@acme.test"),
    ]


def test_the_preferences_page_saves_the_members_choices(people, login):
    client = login(people.alice)
    url = reverse("notifications-preferences", kwargs={"tenant_slug": "acme"})
    page = client.get(url).content.decode()
    assert page.count('type="checkbox"') == 4 and page.count("checked") == 4  # all on at first
    assert "My incidents" in page and "SLA alerts" in page
    response = client.post(url, {"my_incidents": "on", "group_queue": "on", "mentions": "on"})
    assert response.status_code == 302
    choices = MailPreferences.objects.get(membership__user=people.alice)
    assert (choices.my_incidents, choices.group_queue, choices.mentions) == (True, True, True)
    assert choices.sla_alerts is False
    page = client.get(url).content.decode()
    assert page.count("checked") == 3
    # The page is reachable from the header: the member's name leads to their account page,
    # which links to it.
    desk = client.get(reverse("desk-queue", kwargs={"tenant_slug": "acme"})).content.decode()
    assert 'href="/account/"' in desk
    assert f'href="{url}"' in client.get("/account/").content.decode()


def test_the_preferences_page_is_the_desks_staffs_only(people, login):
    url = reverse("notifications-preferences", kwargs={"tenant_slug": "acme"})
    assert login(people.rita).get(url).status_code == 404
    globex = reverse("notifications-preferences", kwargs={"tenant_slug": "globex"})
    assert login(people.alice).get(globex).status_code == 404


def test_sla_alerts_off_stops_the_warning_mail_but_not_the_bell(people, deliver):
    _choose(people, people.bob, sla_alerts=False)
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        short_targets(people.acme, response=100, resolution=1000)
        incident = report_high(people)  # routed to the group: alice and bob
        traveller.move_to(MONDAY_10 + timedelta(seconds=60))
        sweep_due()
        with deliver():
            alerts_notify_pending()
    warnings = Notification.objects.filter(incident_id=incident.pk, kind="sla_warning")
    assert sorted(warnings.exclude(channel="webhook").values_list("channel", "address")) == [
        ("email", "alice@acme.test"),
        ("inapp", "alice@acme.test"),
        ("inapp", "bob@acme.test"),
    ]
    assert [m.to for m in mail.outbox if "50%" in m.subject] == [["alice@acme.test"]]
    # "Escalated to your group" is group-queue news, not an SLA alert: bob still gets its mail.
    assigned = Notification.objects.filter(incident_id=incident.pk, kind="sla_assigned")
    assert ("email", "bob@acme.test") in set(assigned.values_list("channel", "address"))
