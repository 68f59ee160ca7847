"""The desk's incident page: header, timeline, the actions allowed now, and conflicts."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import services
from incidents.models import EventKind, IncidentEvent, Participant
from incidents.services.parent import incident_link_parent
from tenancy.models import Membership, Role
from tests.desk.desk_support import action_url, detail_url, fresh, report, routed
from tests.factories import UserFactory


def _page(client, incident) -> str:
    response = client.get(detail_url(incident))
    assert response.status_code == 200
    return htmllib.unescape(response.content.decode())


def _post(client, incident, action, **fields):
    data = {f"{action}-expected_version": fresh(incident).version}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    return client.post(action_url(incident, action), data)


def _buttons(html: str) -> set[str]:
    """The actions offered: plain buttons and the summaries of folded forms."""
    html = html.split('aria-label="Actions"', 1)[1].split('aria-label="Timeline"', 1)[0]
    found = re.findall(r'<button type="submit"[^>]*>([^<]+)</button>', html)
    found += re.findall(r"<summary[^>]*>([^<]+)</summary>", html)
    return {b.strip() for b in found}


# --- header and timeline --------------------------------------------------------------------
def test_the_header_explains_priority_and_names_the_people(people, login):
    incident = routed(people, "VPN drops", impact="high", urgency="medium")
    services.incident_join(incident=incident, actor=people.actor(people.bob), user=people.bob)
    html = _page(login(people.alice), incident)
    assert "INC-000001" in html and "VPN drops" in html
    assert "High impact × Medium urgency" in html
    assert "Rita Requester" in html and "Bob Agent" in html  # reporter, affected user
    assert "Service Desk" in html and "Network" in html and "Nobody yet" in html


def test_the_header_links_parent_and_children(people, login):
    parent, child = report(people, "Major outage"), report(people, "My mail")
    incident_link_parent(incident=child, actor=people.actor(people.alice), parent=parent)
    client = login(people.alice)
    assert detail_url(child) in _page(client, parent)
    assert detail_url(parent) in _page(client, child)


def test_the_timeline_shows_every_kind_of_change(people, login):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=routed(people, "VPN drops"), actor=alice)
    services.incident_update(
        incident=incident, actor=alice, urgency="high", reason="Whole floor affected"
    )
    services.comment_add(incident=fresh(incident), actor=alice, body="Rebooting the gateway.")
    services.comment_add(
        incident=fresh(incident), actor=alice, body="Gateway log shows DHCP storms.", public=False
    )
    services.attachment_add(
        incident=fresh(incident),
        actor=alice,
        upload=SimpleUploadedFile("trace.txt", b"hop 1\nhop 2", content_type="text/plain"),
    )
    html = _page(login(people.bob), incident)
    assert "Rita Requester reported it" in html
    assert "Routing escalated it" in html and "Escalated → In progress" in html
    assert "Alice Agent changed it" in html and "Urgency: medium → high" in html
    assert "Rebooting the gateway." in html
    assert "Gateway log shows DHCP storms." in html and "Internal" in html
    assert "trace.txt" in html
    assert "Email to rita@acme.test" in html  # the acknowledgement from the outbox


def test_an_attachment_downloads_from_its_incident(people, login):
    incident = report(people)
    attachment = services.attachment_add(
        incident=incident,
        actor=people.actor(people.alice),
        upload=SimpleUploadedFile("trace.txt", b"hop 1", content_type="text/plain"),
    )
    url = reverse(
        "desk-incident-attachment",
        kwargs={"tenant_slug": "acme", "number": incident.number, "attachment_id": attachment.pk},
    )
    response = login(people.alice).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hop 1"


# --- which actions are offered ----------------------------------------------------------------
def test_an_escalated_incident_offers_accept_but_not_resume_or_reopen(people, login):
    offered = _buttons(_page(login(people.alice), routed(people)))
    assert {"Accept", "Escalate", "Put on hold", "Resolve", "Cancel"} <= offered
    assert {"Resolve at first contact", "Public reply", "Internal note"} <= offered
    assert not {"Resume", "Reopen", "Close on the reporter's word"} & offered


def test_an_agent_outside_the_group_is_not_offered_accept(people, login):
    otto = UserFactory(email="otto@acme.test", full_name="Otto Outside")
    Membership.objects.create(tenant=people.acme, user=otto, role=Role.AGENT)
    offered = _buttons(_page(login(otto), routed(people)))
    assert "Accept" not in offered and "Escalate" in offered


def test_a_resolved_incident_offers_reopen_and_close(people, login):
    incident = services.incident_resolve(
        incident=routed(people),
        actor=people.actor(people.alice),
        resolution_code="known-error",
        resolution_notes="Known.",
    )
    offered = _buttons(_page(login(people.alice), incident))
    assert {"Reopen", "Close on the reporter's word", "Public reply"} <= offered
    assert not {"Accept", "Resolve", "Put on hold", "Reassign"} & offered


def test_a_closed_incident_offers_nothing(people, login):
    incident = services.incident_cancel(
        incident=report(people), actor=people.actor(people.alice), reason="Test"
    )
    html = _page(login(people.alice), incident)
    assert _buttons(html) == set()
    assert "Nothing to do here" in html


# --- actions through the page -----------------------------------------------------------------
def test_accept_hold_resume_and_resolve_through_the_page(people, login):
    incident = routed(people)
    client = login(people.alice)
    response = _post(client, incident, "accept")
    assert response.status_code == 302
    assert fresh(incident).state == "diagnosing" and fresh(incident).assignee == people.alice
    _post(client, incident, "hold", hold_reason="awaiting_vendor", note="Ticket 42 at vendor")
    assert (fresh(incident).state, fresh(incident).hold_reason) == ("on_hold", "awaiting_vendor")
    _post(client, incident, "resume", note="Vendor answered")
    assert fresh(incident).state == "diagnosing"
    _post(
        client,
        incident,
        "resolve",
        resolution_code="solved-permanently",
        resolution_notes="Replaced the VPN concentrator.",
    )
    assert fresh(incident).state == "resolved"
    html = _page(client, incident)
    assert "INC-000001 is yours: diagnosis started." in html
    assert "INC-000001 resolved." in html
    assert "Replaced the VPN concentrator." in html
    assert "is yours" not in _page(client, incident)  # each message is shown once


def test_resolving_requires_notes_and_keeps_what_was_chosen(people, login):
    incident = routed(people)
    response = _post(login(people.alice), incident, "resolve", resolution_code="known-error")
    assert response.status_code == 400
    html = response.content.decode()
    assert "This field is required" in html
    assert '<option value="known-error" selected>' in html
    assert fresh(incident).state == "escalated"


def test_a_service_refusal_is_shown_on_its_field(people, login):
    incident = routed(people)
    response = _post(
        login(people.alice),
        incident,
        "escalate",
        assignee=people.max.pk,
        kind="functional",
        reason="Needs a manager",
    )
    assert response.status_code == 400
    assert "max@acme.test is not a member of Service Desk" in response.content.decode()
    assert "Needs a manager" in response.content.decode()


def test_resolve_at_first_contact_takes_three_steps_in_one(people, login):
    incident = report(people, "Password expired")
    _post(
        login(people.alice),
        incident,
        "first_contact",
        resolution_code="user-error",
        resolution_notes="Reset it with the caller.",
    )
    transitions = list(
        IncidentEvent.objects.filter(incident=incident, kind=EventKind.TRANSITION).values_list(
            "transition", flat=True
        )
    )
    assert transitions == ["escalate", "accept", "resolve"]
    assert fresh(incident).assignee == people.alice


def test_cancel_as_duplicate_by_number_moves_the_reporter(people, login):
    original = report(people, "Mail down", by=people.bob)
    duplicate = report(people, "Mail down here too")
    _post(
        login(people.alice),
        duplicate,
        "cancel",
        reason="Same outage",
        duplicate_of=original.reference,
    )
    assert fresh(duplicate).state == "cancelled"
    assert fresh(duplicate).duplicate_of_id == original.pk
    assert Participant.objects.filter(incident=original, user=people.rita).exists()


def test_cancel_as_duplicate_of_an_unknown_number_is_refused(people, login):
    incident = report(people)
    response = _post(login(people.alice), incident, "cancel", duplicate_of="INC-999999")
    assert response.status_code == 400
    assert "There is no incident INC-999999 here." in response.content.decode()


def test_reopen_and_close_on_the_reporters_word(people, login):
    alice = people.actor(people.alice)
    incident = services.incident_resolve(
        incident=routed(people),
        actor=alice,
        resolution_code="known-error",
        resolution_notes="Known.",
    )
    client = login(people.alice)
    _post(client, incident, "reopen", reason="Rita says it is back")
    assert fresh(incident).state == "diagnosing" and fresh(incident).reopen_count == 1
    services.incident_resolve(
        incident=fresh(incident),
        actor=alice,
        resolution_code="known-error",
        resolution_notes="Fixed for good.",
    )
    _post(client, incident, "close", rating="4", comment="Rita confirmed on the phone")
    closed = fresh(incident)
    assert (closed.state, closed.satisfaction_rating) == ("closed", 4)


def test_changing_urgency_shows_the_derived_priority_before_saving(people, login):
    incident = report(people, impact="high", urgency="low")
    client = login(people.alice)
    url = reverse(
        "desk-incident-priority", kwargs={"tenant_slug": "acme", "number": incident.number}
    )
    preview = client.get(url, {"priority-impact": "high", "priority-urgency": "high"})
    assert "Priority will be" in preview.content.decode()
    assert "High</strong>" in preview.content.decode()
    assert "High impact × High urgency" in htmllib.unescape(preview.content.decode())
    _post(client, incident, "priority", impact="high", urgency="high", reason="CEO affected")
    assert fresh(incident).priority.slug == "high"


def test_reassign_reply_note_attach_and_diagnosis(people, login):
    incident = services.incident_accept(incident=routed(people), actor=people.actor(people.alice))
    client = login(people.alice)
    _post(
        client,
        incident,
        "reassign",
        group=people.group.pk,
        assignee=people.bob.pk,
        reason="Bob knows VPNs",
    )
    assert fresh(incident).assignee == people.bob
    client.post(
        action_url(incident, "reply"),
        {
            "reply-expected_version": fresh(incident).version,
            "reply-body": "We are on it.",
            "reply-files": SimpleUploadedFile("shot.png", b"\x89PNG", content_type="image/png"),
        },
    )
    _post(client, incident, "note", body="Probably the MTU.")
    client.post(
        action_url(incident, "attach"),
        {
            "attach-expected_version": fresh(incident).version,
            "attach-upload": SimpleUploadedFile("log.txt", b"log", content_type="text/plain"),
            "attach-internal": "on",
        },
    )
    _post(
        client,
        incident,
        "diagnosis",
        cause_category="Network",
        root_cause="MTU mismatch",
        workaround="Lower MTU",
    )
    updated = fresh(incident)
    assert updated.root_cause == "MTU mismatch"
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", "public"))[-5:]
    assert kinds == [
        (EventKind.ASSIGNED, True),
        (EventKind.COMMENT, True),
        (EventKind.NOTE, False),
        (EventKind.ATTACHMENT, False),
        (EventKind.FIELD_CHANGED, False),
    ]
    html = _page(client, incident)
    assert "shot.png" in html and "log.txt" in html


def test_link_parent_and_children_through_the_page(people, login):
    parent, child, other = report(people, "Major"), report(people, "Child"), report(people, "Too")
    client = login(people.alice)
    _post(client, child, "link_parent", parent=parent.reference)
    assert fresh(child).parent_id == parent.pk
    _post(client, parent, "link_children", children=f"{other.number}")
    assert fresh(other).parent_id == parent.pk
    _post(client, child, "unlink_parent")
    assert fresh(child).parent_id is None


def test_linking_an_unknown_child_names_it(people, login):
    parent = report(people, "Major")
    response = _post(login(people.alice), parent, "link_children", children="INC-000404, 2x")
    assert response.status_code == 400
    assert "There is no incident 2x, INC-000404 here." in response.content.decode()


# --- conflicts --------------------------------------------------------------------------------
def test_a_stale_page_is_refused_with_who_changed_what_and_the_text_is_kept(people, login):
    incident = routed(people)
    seen = incident.version
    services.incident_accept(incident=incident, actor=people.actor(people.bob))
    response = login(people.alice).post(
        action_url(incident, "hold"),
        {
            "hold-expected_version": seen,
            "hold-hold_reason": "awaiting_vendor",
            "hold-note": "Called the vendor, ticket 77",
        },
    )
    assert response.status_code == 409
    html = htmllib.unescape(response.content.decode())
    assert (
        "was changed by someone else since you opened it: Bob Agent moved it to in progress" in html
    )
    assert "Called the vendor, ticket 77" in html
    assert 'data-testid="incident-state">In progress<' in html  # the fresh state
    # The kept form now carries the fresh version: sending it again applies it.
    assert f'name="hold-expected_version" value="{fresh(incident).version}"' in html
    assert fresh(incident).state == "diagnosing"


def test_text_for_an_action_no_longer_possible_is_still_shown(people, login):
    incident = routed(people)
    seen = incident.version
    services.incident_cancel(incident=incident, actor=people.actor(people.bob), reason="Dup")
    response = login(people.alice).post(
        action_url(incident, "resolve"),
        {
            "resolve-expected_version": seen,
            "resolve-resolution_code": "known-error",
            "resolve-resolution_notes": "Long diagnosis I do not want to lose",
        },
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "no longer possible" in html
    assert "Long diagnosis I do not want to lose" in html


# --- who may see it ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["detail", "accept", "priority"])
def test_charlie_of_another_tenant_gets_404(people, login, name):
    incident = routed(people)
    client = login(people.charlie)
    if name == "detail":
        response = client.get(detail_url(incident))
    elif name == "accept":
        response = _post(client, incident, "accept")
    else:
        response = client.get(
            reverse("desk-incident-priority", kwargs={"tenant_slug": "acme", "number": 1})
        )
    assert response.status_code == 404
    assert fresh(incident).state == "escalated"


def test_charlie_gets_404_for_his_own_tenants_number_in_acme(people, login):
    """Numbers are per tenant: globex's INC-000001 is not reachable through acme, nor back."""
    acme_incident = routed(people)
    client = login(people.charlie)
    globex_url = detail_url(acme_incident).replace("/t/acme/", "/t/globex/")
    assert client.get(globex_url).status_code == 404


def test_a_requester_gets_404_on_the_desk_page(people, login):
    incident = report(people)
    assert login(people.rita).get(detail_url(incident)).status_code == 404


def test_an_unknown_number_or_action_is_404(people, login):
    incident = report(people)
    client = login(people.alice)
    assert client.get(detail_url(incident).replace("/1/", "/99/")).status_code == 404
    assert client.post(action_url(incident, "explode"), {}).status_code == 404


def test_a_hierarchical_escalation_says_so_in_the_timeline(people, login):
    incident = routed(people)
    client = login(people.alice)
    _post(
        client,
        incident,
        "escalate",
        assignee=people.bob.pk,
        kind="hierarchical",
        reason="Needs the lead",
    )
    event = IncidentEvent.objects.filter(incident=incident).last()
    assert (event.transition, event.data["kind"]) == ("escalate", "hierarchical")
    assert "Escalation: hierarchical" in _page(client, incident)
