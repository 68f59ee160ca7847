"""In-app notifications: delivered rows show in their recipient's bell and list, inside the
tenant only; marking read empties the bell."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from escalation.models import Notification
from escalation.services import notification_deliver, notification_enqueue
from incidents import services as incidents
from tenancy.models import Membership, Role


def _notify(people, user, subject: str = "INC-000001 needs you", *, capture=None, **fields):
    fields.setdefault("tenant", people.acme)
    row = notification_enqueue(
        kind="escalation",
        address=user.email,
        subject=subject,
        body="Please take a look.",
        recipient=user,
        channel="inapp",
        **fields,
    )
    notification_deliver(notification_id=row.id)  # what the worker does once the row commits
    row.refresh_from_db()
    return row


def _url(name: str, slug: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


def _bell_count(html: str) -> int:
    bell = re.search(r'<a [^>]*id="notification-bell".*?</a>', html, re.S)
    assert bell, "no bell on the page"
    count = re.search(r'data-testid="unread-count">(\d+)<', bell.group(0))
    return int(count.group(1)) if count else 0


def test_a_delivered_inapp_notification_counts_in_the_recipients_bell(people, login):
    row = _notify(people, people.alice)
    assert row.status == "sent"
    _notify(people, people.alice, "Second")
    _notify(people, people.bob, "Bob's own")
    client = login(people.alice)
    assert _bell_count(client.get(_url("notifications-bell")).content.decode()) == 2
    assert _bell_count(client.get(_url("desk-queue")).content.decode()) == 2


def test_the_bell_polls_every_30_seconds(people, login):
    page = login(people.alice).get(_url("desk-queue")).content.decode()
    bell = re.search(r'<a [^>]*id="notification-bell"[^>]*>', page, re.S).group(0)
    assert 'hx-trigger="every 30s"' in bell
    assert f'hx-get="{_url("notifications-bell")}"' in bell


def test_a_row_not_yet_delivered_is_not_in_the_bell(people, login):
    # Enqueued in-app rows are delivered at once (outbox._deliver_inapp); one sent again by an
    # operator waits for a worker like any other.
    Notification.objects.create(
        tenant=people.acme,
        kind="escalation",
        address="alice@acme.test",
        subject="Waiting",
        body="",
        recipient=people.alice,
        channel="inapp",
        status="pending",
    )
    assert _bell_count(login(people.alice).get(_url("notifications-bell")).content.decode()) == 0


def test_requesters_have_no_bell_and_no_notification_pages(people, login):
    client = login(people.rita)
    assert 'id="notification-bell"' not in client.get(_url("portal-home")).content.decode()
    assert client.get(_url("notifications-list")).status_code == 404
    assert client.get(_url("notifications-bell")).status_code == 404


def test_the_list_shows_newest_first_and_marks_unread(people, login):
    _notify(people, people.alice, "Older")
    newer = _notify(people, people.alice, "Newer")
    Notification.objects.filter(id=newer.id).update(read_at=newer.created_at)
    page = login(people.alice).get(_url("notifications-list")).content.decode()
    assert page.index("Newer") < page.index("Older")
    assert "1 unread" in page
    assert page.count("data-unread") == 1


def test_marking_one_read_lowers_the_count(people, login):
    first = _notify(people, people.alice, "First")
    _notify(people, people.alice, "Second")
    client = login(people.alice)
    response = client.post(_url("notifications-read", pk=first.pk))
    assert response.status_code == 302
    assert _bell_count(client.get(_url("notifications-bell")).content.decode()) == 1
    first.refresh_from_db()
    assert first.read_at is not None


def test_mark_all_read_empties_the_bell_and_leaves_other_people_alone(people, login):
    for n in range(3):
        _notify(people, people.alice, f"Alice {n}")
    _notify(people, people.bob, "Bob's")
    client = login(people.alice)
    page = client.post(_url("notifications-read-all"), follow=True).content.decode()
    assert "Marked 3 notifications read." in page
    assert _bell_count(client.get(_url("notifications-bell")).content.decode()) == 0
    assert Notification.objects.filter(recipient=people.bob, read_at__isnull=True).count() == 1


def test_opening_a_notification_follows_its_link_and_marks_it_read(people, login):
    row = _notify(people, people.alice, link="/t/acme/desk/")
    client = login(people.alice)
    response = client.get(_url("notifications-open", pk=row.pk))
    assert response["Location"] == "/t/acme/desk/"
    assert _bell_count(client.get(_url("notifications-bell")).content.decode()) == 0


@pytest.mark.parametrize("link", ["https://evil.test/", "//evil.test/x", "/t/globex/desk/", ""])
def test_a_link_outside_the_tenant_is_not_followed(people, login, link):
    row = _notify(people, people.alice, link=link)
    response = login(people.alice).get(_url("notifications-open", pk=row.pk))
    assert response["Location"] == _url("notifications-list")


def test_another_users_notification_is_404(people, login):
    row = _notify(people, people.alice)
    client = login(people.bob)
    assert client.get(_url("notifications-open", pk=row.pk)).status_code == 404
    assert client.post(_url("notifications-read", pk=row.pk)).status_code == 404
    assert "INC-000001 needs you" not in client.get(_url("notifications-list")).content.decode()
    row.refresh_from_db()
    assert row.read_at is None


def test_charlie_gets_404(people, login):
    row = _notify(people, people.alice)
    client = login(people.charlie)
    assert client.get(_url("notifications-list")).status_code == 404
    assert client.get(_url("notifications-open", "globex", pk=row.pk)).status_code == 404
    assert client.post(_url("notifications-read", "globex", pk=row.pk)).status_code == 404


def test_a_notification_for_acme_does_not_show_in_alices_other_tenant(people, login):
    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.AGENT)
    _notify(people, people.alice)
    client = login(people.alice)
    assert _bell_count(client.get(_url("notifications-bell", "globex")).content.decode()) == 0
    assert _bell_count(client.get(_url("notifications-bell")).content.decode()) == 1


def test_a_recipient_who_left_the_desk_fails_for_good(people):
    Membership.objects.filter(user=people.bob).update(is_active=False)
    row = _notify(people, people.bob)
    assert row.status == "dead"
    assert "no longer an active member" in row.last_error


def test_the_list_costs_the_same_queries_for_5_or_30_notifications(
    people, login, django_assert_max_num_queries
):
    incident = incidents.incident_report(actor=people.actor(people.rita), title="Mail down")
    client = login(people.alice)
    for count in (5, 30):
        while Notification.objects.filter(channel="inapp").count() < count:
            _notify(people, people.alice, incident=incident)
        with django_assert_max_num_queries(8):
            page = client.get(_url("notifications-list")).content.decode()
        assert page.count('data-testid="notification"') == count
        assert f"{incident.reference} ·" in page


@pytest.mark.browser
def test_alice_sees_her_bell_opens_the_list_and_marks_all_read(people, live_server, page):
    _notify(people, people.alice, "INC-000007 was escalated to you")
    _notify(people, people.alice, "INC-000008 was escalated to you")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone
    _browser_login(page, live_server, people.alice)
    page.goto(live_server.url + _url("desk-queue"))
    bell = page.get_by_role("link", name="Notifications: 2 unread")
    bell.click()
    page.get_by_role("heading", name="Notifications").wait_for()
    assert page.get_by_text("INC-000007 was escalated to you").is_visible()
    page.get_by_role("button", name="Mark all read").click()
    page.get_by_text("Marked 2 notifications read.").wait_for()
    assert page.get_by_role("link", name="Notifications: 0 unread").is_visible()


def _browser_login(page, live_server, user) -> None:
    """A session made by Django's test client: the login page is not what this test is about."""
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
