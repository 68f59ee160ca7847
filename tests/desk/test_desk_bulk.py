"""Bulk actions on the queue: each row through the services; failures named, the rest applied."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from incidents import services
from incidents.models import Participant
from tests.desk.desk_support import fresh, report, routed, row_numbers
from tests.factories import GroupFactory, add_to_group

BULK = reverse("desk-queue-bulk", kwargs={"tenant_slug": "acme"})


def _bulk(client, incidents, action: str, **fields):
    data = {
        "action": action,
        "incidents": [f"{i.number}:{fresh(i).version}" for i in incidents],
        "query": "queue=open&state=",
        **fields,
    }
    return client.post(BULK, data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_assign_to_me_escalates_new_ones_and_reassigns_the_others(people, login):
    new, escalated = report(people, "New"), routed(people, "Escalated")
    response = _bulk(login(people.alice), [new, escalated], "assign_me")
    assert response.status_code == 302
    assert response["Location"] == "/t/acme/desk/?queue=open&state="
    new, escalated = fresh(new), fresh(escalated)
    assert (new.state, new.assignee) == ("escalated", people.alice)
    assert (escalated.state, escalated.assignee) == ("escalated", people.alice)
    assert _messages(response) == [f"Done for 2: {new.reference}, {escalated.reference}."]


def test_assign_to_an_agent(people, login):
    incident = routed(people)
    _bulk(login(people.alice), [incident], "assign_agent", agent=people.bob.pk)
    assert fresh(incident).assignee == people.bob


def test_escalate_to_a_group_reports_the_rows_that_cannot_go(people, login):
    alice = people.actor(people.alice)
    apps = GroupFactory(tenant=people.acme, name="Applications")
    add_to_group(apps, people.bob)
    first, second = routed(people, "First"), report(people, "Second")
    held = services.incident_hold(
        incident=services.incident_accept(incident=routed(people, "Held"), actor=alice),
        actor=alice,
        hold_reason="awaiting_vendor",
    )
    response = _bulk(
        login(people.alice),
        [first, held, second],
        "escalate_group",
        group=apps.pk,
        reason="Application fault",
    )
    assert fresh(first).group == apps and fresh(second).group == apps
    assert fresh(held).state == "on_hold" and fresh(held).group == people.group
    messages = _messages(response)
    assert messages[0] == f"Done for 2: {first.reference}, {second.reference}."
    assert messages[1].startswith(f"Not applied to {held.reference}: ")
    assert "on hold" in messages[1]


def test_cancel_as_duplicate_moves_reporters_to_the_original(people, login):
    original = report(people, "Mail down", by=people.bob)
    dup_rita = report(people, "No mail")
    dup_max = report(people, "Mail broken", by=people.max)
    response = _bulk(
        login(people.alice),
        [dup_rita, original, dup_max],
        "cancel_duplicate",
        duplicate_of=original.reference,
    )
    assert fresh(dup_rita).state == "cancelled" and fresh(dup_max).state == "cancelled"
    assert fresh(dup_rita).duplicate_of_id == original.pk
    joined = set(
        Participant.objects.filter(incident=original).values_list("user__email", flat=True)
    )
    assert joined == {"rita@acme.test", "max@acme.test"}
    assert fresh(original).state == "reported"
    assert any(
        m.startswith(f"Not applied to {original.reference}: An incident cannot be a duplicate")
        for m in _messages(response)
    )


def test_a_row_changed_since_the_queue_was_drawn_is_reported_not_overwritten(people, login):
    seen, other = routed(people, "Seen"), routed(people, "Other")
    stale_value = f"{seen.number}:{seen.version}"
    services.incident_accept(incident=seen, actor=people.actor(people.bob))
    response = login(people.alice).post(
        BULK,
        {
            "action": "assign_me",
            "incidents": [stale_value, f"{other.number}:{other.version}"],
            "query": "",
        },
    )
    assert fresh(seen).assignee == people.bob
    assert fresh(other).assignee == people.alice
    assert any(
        f"Not applied to {seen.reference}" in m and "Bob Agent" in m for m in _messages(response)
    )


def test_bad_bulk_input_keeps_the_selection_and_the_typed_reason(people, login):
    one, two = routed(people, "One"), routed(people, "Two")
    response = login(people.alice).post(
        BULK,
        {
            "action": "assign_agent",
            "incidents": [f"{one.number}:{one.version}"],
            "reason": "Weekend cover",
            "query": "queue=open",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose the agent." in html
    assert 'value="Weekend cover"' in html
    ticked = f'value="{one.number}:{one.version}" data-number="{one.number}"'
    assert f'{ticked} id="pick-{one.number}" checked' in html
    assert f'id="pick-{two.number}">' in html  # not ticked
    assert sorted(row_numbers(html)) == [one.number, two.number]


def test_no_selection_is_refused_with_a_message(people, login):
    routed(people)
    response = login(people.alice).post(BULK, {"action": "assign_me", "query": ""})
    assert response.status_code == 400
    assert "Select at least one incident." in response.content.decode()


def test_charlie_cannot_touch_acme_rows(people, login):
    incident = routed(people)
    response = login(people.charlie).post(
        BULK, {"action": "assign_me", "incidents": [f"{incident.number}:{incident.version}"]}
    )
    assert response.status_code == 404
    assert fresh(incident).assignee is None
