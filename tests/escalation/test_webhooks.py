"""Webhooks: signed deliveries to a local sink, retry or give up by the receiver's answer, the
settings pages, and the dead letter with its Retry button."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation.models import Notification, WebhookEndpoint
from escalation.services import outbox as services
from escalation.services.webhooks import EVENT_TYPES, webhook_endpoint_create, webhook_event_emit
from escalation.tasks import relay_notifications
from incidents import services as incidents
from tenancy.models import Membership, Role
from tests.factories import UserFactory
from tests.faults.sink import WebhookSink

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture
def verify():
    """The verification function exactly as docs/webhooks.md prints it."""
    text = DOCS.read_text()
    code = re.search(r"```python\n(.*?def verify_desk_signature.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (our own documentation)
    return namespace["verify_desk_signature"]


@pytest.fixture
def sink():
    with WebhookSink() as receiver:
        yield receiver


def _endpoint(people, url: str, events=EVENT_TYPES, **fields) -> WebhookEndpoint:
    return webhook_endpoint_create(
        actor=people.actor(people.ada), url=url, events=list(events), **fields
    )


def _report(people, capture, title: str = "VPN drops"):
    with capture(execute=True):
        return incidents.incident_report(
            actor=people.actor(people.rita), title=title, impact="high", urgency="medium"
        )


def _webhook_rows(tenant):
    return Notification.objects.for_tenant(tenant).filter(channel="webhook").order_by("id")


def _ping(people, endpoint: WebhookEndpoint) -> Notification:
    from escalation.services.webhooks import webhook_endpoint_ping

    return webhook_endpoint_ping(actor=people.actor(people.ada), endpoint=endpoint)


def _deliver(notification: Notification) -> Notification:
    services.notification_deliver(notification_id=notification.id)
    notification.refresh_from_db()
    return notification


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Delivery and signature ------------------------------------------------------------------


def test_a_reported_incident_reaches_the_endpoint_signed_as_documented(
    people, sink, verify, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(people, sink.url("/ok"), events=["incident.created"])
    incident = _report(people, django_capture_on_commit_callbacks)

    [row] = _webhook_rows(people.acme)
    assert row.status == "sent"
    [got] = sink.deliveries
    assert got.event == "incident.created"
    assert got.delivery_id == str(row.delivery_id)
    assert verify(endpoint.secret, got.signature, got.body)
    assert not verify(endpoint.secret, got.signature, got.body.replace(b"VPN", b"VPM"))
    assert not verify("whsec_someone-else", got.signature, got.body)
    body = got.json()
    assert body["event"] == "incident.created"
    assert body["tenant"] == "acme"
    assert body["data"]["incident"]["number"] == incident.reference
    assert body["data"]["incident"]["priority"] == "high"
    assert body["data"]["actor"] == "Rita Requester"


def test_a_routed_report_sends_created_as_reported_then_its_escalation_both_numbered(
    people, sink, django_capture_on_commit_callbacks
):
    """The report takes its number last; the payloads still show it and the state of each step."""
    _endpoint(people, sink.url("/ok"), events=["incident.created", "incident.transitioned"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = incidents.incident_report(
            actor=people.actor(people.rita), title="VPN drops", category=people.network
        )

    sent = [(d.event, d.json()["data"]) for d in sink.deliveries]
    assert [event for event, _ in sent] == ["incident.created", "incident.transitioned"]
    created, routed = sent[0][1]["incident"], sent[1][1]["incident"]
    assert created["number"] == routed["number"] == incident.reference != "INC-(new)"
    assert created["url"].endswith(f"/incidents/{incident.number}/")
    assert (created["state"], created["group"]) == ("reported", None)
    assert (routed["state"], routed["group"]) == ("escalated", people.group.slug)


def test_an_old_timestamp_fails_the_documented_check(people, sink, verify):
    endpoint = _endpoint(people, sink.url("/ok"))
    _deliver(_ping(people, endpoint))
    got = sink.deliveries[0]
    assert verify(endpoint.secret, got.signature, got.body)
    assert not verify(endpoint.secret, got.signature, got.body, tolerance=-1)


def test_transitions_and_comments_are_sent_with_their_details(
    people, sink, django_capture_on_commit_callbacks
):
    _endpoint(people, sink.url("/ok"), events=["incident.transitioned", "incident.commented"])
    incident = _report(people, django_capture_on_commit_callbacks)
    alice = people.actor(people.alice)
    with django_capture_on_commit_callbacks(execute=True):
        incident = incidents.incident_escalate(incident=incident, actor=alice, group=people.group)
        incidents.comment_add(incident=incident, actor=alice, body="Looking", public=True)
        incidents.comment_add(incident=incident, actor=alice, body="Router 7?", public=False)

    events = [(d.event, d.json()["data"]) for d in sink.deliveries]
    assert [e for e, _ in events] == [
        "incident.transitioned",
        "incident.commented",
        "incident.commented",
    ]
    moved = events[0][1]
    assert (moved["transition"], moved["from_state"], moved["to_state"]) == (
        "escalate",
        "reported",
        "escalated",
    )
    assert moved["incident"]["group"] == "service-desk"
    assert [(d["public"], d["comment"]["body"]) for _, d in events[1:]] == [
        (True, "Looking"),
        (False, "Router 7?"),
    ]
    assert len({d.delivery_id for d in sink.deliveries}) == 3


def test_only_active_endpoints_subscribed_to_the_event_get_it(
    people, sink, django_capture_on_commit_callbacks
):
    _endpoint(people, sink.url("/ok/created"), events=["incident.created"])
    _endpoint(people, sink.url("/ok/sla"), events=["sla.breached"])
    off = _endpoint(people, sink.url("/ok/off"), events=["incident.created"])
    off.is_active = False
    off.save()
    _report(people, django_capture_on_commit_callbacks)
    assert [d.path for d in sink.deliveries] == ["/ok/created"]


def test_sla_events_reach_only_their_subscribers(people, sink, django_capture_on_commit_callbacks):
    _endpoint(people, sink.url("/ok/created"), events=["incident.created"])
    _endpoint(people, sink.url("/ok/breach"), events=["sla.breached"])
    with django_capture_on_commit_callbacks(execute=True):
        rows = webhook_event_emit(
            tenant=people.acme, event="sla.breached", payload={"clock": {"metric": "response"}}
        )
    assert len(rows) == 1
    [got] = sink.deliveries
    assert (got.path, got.event) == ("/ok/breach", "sla.breached")
    assert got.json()["data"] == {"clock": {"metric": "response"}}
    with pytest.raises(ValueError):
        webhook_event_emit(tenant=people.acme, event="sla.typo", payload={})


def test_other_tenants_endpoints_never_hear_of_acme(
    people, sink, django_capture_on_commit_callbacks
):
    ada_of_globex = _globex_admin(people)
    webhook_endpoint_create(
        actor=people.actor(ada_of_globex, people.globex), url=sink.url("/ok"), events=EVENT_TYPES
    )
    _report(people, django_capture_on_commit_callbacks)
    assert sink.deliveries == []


def test_slack_format_sends_one_line_of_text(
    people, sink, verify, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(people, sink.url("/ok"), events=["incident.created"], slack_format=True)
    incident = _report(people, django_capture_on_commit_callbacks)
    [got] = sink.deliveries
    assert got.json() == {"text": f"New incident {incident.reference} VPN drops (priority high)"}
    assert verify(endpoint.secret, got.signature, got.body)


# --- What the receiver's answer means ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/status/500", "/status/503", "/status/408", "/status/429"])
def test_server_errors_408_and_429_are_tried_again_later(people, sink, path, settings):
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    row = _deliver(_ping(people, _endpoint(people, sink.url(path))))
    assert row.status == "pending"
    assert row.attempts == 1
    assert f"HTTP {path.rsplit('/', 1)[1]}" in row.last_error
    wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)


def test_a_timeout_is_tried_again(people, sink, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    row = _deliver(_ping(people, _endpoint(people, sink.url("/slow/5"))))
    assert row.status == "pending"
    assert "timed out" in row.last_error


def test_an_unreachable_host_is_tried_again(people):
    row = _deliver(_ping(people, _endpoint(people, f"http://127.0.0.1:{_free_port()}/hook")))
    assert row.status == "pending"
    assert "did not answer" in row.last_error


@pytest.mark.parametrize("status", [410, 400, 401, 404, 422])
def test_410_and_other_client_errors_fail_for_good_at_once(people, sink, status):
    row = _deliver(_ping(people, _endpoint(people, sink.url(f"/status/{status}"))))
    assert row.status == "dead"
    assert row.attempts == 1
    assert f"HTTP {status}" in row.last_error
    assert row.id not in services.notifications_due()


def test_a_redirect_to_another_host_is_never_followed(people, sink):
    with WebhookSink() as elsewhere:
        url = sink.url(f"/redirect/307?to={elsewhere.url('/ok')}")
        row = _deliver(_ping(people, _endpoint(people, url)))
        assert elsewhere.deliveries == []
    assert row.status == "dead"
    assert "another host" in row.last_error


def test_a_same_host_307_is_followed_with_the_same_body_and_id(people, sink):
    row = _deliver(_ping(people, _endpoint(people, sink.url("/redirect/307?to=/ok"))))
    assert row.status == "sent"
    first, second = sink.deliveries
    assert (first.path, second.path) == ("/redirect/307?to=/ok", "/ok")
    assert first.body == second.body
    assert first.delivery_id == second.delivery_id == str(row.delivery_id)


def test_a_302_is_not_followed(people, sink):
    row = _deliver(_ping(people, _endpoint(people, sink.url("/redirect/302?to=/ok"))))
    assert row.status == "dead"
    assert [d.path for d in sink.deliveries] == ["/redirect/302?to=/ok"]


def test_every_retry_carries_the_same_delivery_id_until_attempts_run_out(people, sink, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_BACKOFF_SECONDS = 0
    row = _ping(people, _endpoint(people, sink.url("/status/503")))
    statuses = [_deliver(row).status for _ in range(4)]
    assert statuses == ["pending", "pending", "dead", "dead"]
    assert row.attempts == 3
    assert sink.received_ids() == {str(row.delivery_id): 3}
    assert sink.ids() == {}


def test_the_relay_sends_a_failed_delivery_again_once_its_backoff_has_passed(
    people, sink, settings
):
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    endpoint = _endpoint(people, sink.url("/hook"))
    sink.status = 503
    row = _deliver(_ping(people, endpoint))
    sink.status = 200
    relay_notifications.apply()
    assert _reload(row).status == "pending"  # backoff not over: the relay leaves it
    Notification.objects.filter(id=row.id).update(next_attempt_at=timezone.now())
    relay_notifications.apply()
    assert _reload(row).status == "sent"
    assert sink.received_ids() == {str(row.delivery_id): 2}
    assert sink.ids() == {str(row.delivery_id): 1}


def _reload(row: Notification) -> Notification:
    row.refresh_from_db()
    return row


def test_a_disabled_endpoint_fails_its_waiting_deliveries_for_good(people, sink):
    endpoint = _endpoint(people, sink.url("/ok"))
    row = _ping(people, endpoint)
    endpoint.is_active = False
    endpoint.save()
    assert _deliver(row).status == "dead"
    assert "disabled" in row.last_error
    assert sink.deliveries == []


# --- Settings pages ---------------------------------------------------------------------------


def _globex_admin(people):
    user = UserFactory(email="gina@globex.test", full_name="Gina Globex")
    Membership.objects.create(tenant=people.globex, user=user, role=Role.ADMIN)
    return user


def _url(name: str, slug: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"tenant_slug": slug, **kwargs})


def test_an_admin_adds_an_endpoint_and_sees_its_secret(people, login):
    client = login(people.ada)
    response = client.post(
        _url("settings-webhooks-create"),
        {
            "url": "https://hooks.example.test/desk",
            "description": "Ops chat",
            "events": ["incident.created", "sla.breached"],
        },
    )
    endpoint = WebhookEndpoint.objects.for_tenant(people.acme).get()
    assert response.status_code == 302
    assert response["Location"] == _url("settings-webhooks-detail", pk=endpoint.pk)
    assert endpoint.events == ["incident.created", "sla.breached"]
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page
    assert "Ops chat" in client.get(_url("settings-webhooks")).content.decode()


def test_a_bad_url_is_refused_and_what_was_typed_is_kept(people, login):
    client = login(people.ada)
    response = client.post(
        _url("settings-webhooks-create"),
        {
            "url": "ftp://files.example.test/x",
            "description": "Typed with care",
            "events": ["sla.warning"],
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Give a full http:// or https:// URL." in page
    assert 'value="ftp://files.example.test/x"' in page
    assert 'value="Typed with care"' in page
    assert re.search(r'value="sla.warning"[^>]*checked', page)
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoint_needs_at_least_one_event(people, login):
    response = login(people.ada).post(
        _url("settings-webhooks-create"), {"url": "https://hooks.example.test/desk"}
    )
    assert "Choose at least one event to send." in response.content.decode()


def test_an_admin_edits_disables_and_pings_an_endpoint(
    people, login, sink, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(people, "https://old.example.test/hook")
    client = login(people.ada)
    client.post(
        _url("settings-webhooks-detail", pk=endpoint.pk),
        {"url": sink.url("/ok"), "events": ["incident.created"], "is_active": "on"},
    )
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events) == (sink.url("/ok"), ["incident.created"])

    client.post(_url("settings-webhooks-toggle", pk=endpoint.pk))
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    page = client.post(_url("settings-webhooks-ping", pk=endpoint.pk), follow=True)
    assert "Enable the endpoint before sending it a test." in page.content.decode()

    client.post(_url("settings-webhooks-toggle", pk=endpoint.pk))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("settings-webhooks-ping", pk=endpoint.pk))
    assert [d.event for d in sink.deliveries] == ["ping"]
    log = client.get(_url("settings-webhooks-detail", pk=endpoint.pk)).content.decode()
    assert str(sink.deliveries[0].delivery_id) in log


def test_a_new_secret_signs_deliveries_still_waiting(people, login, sink, verify):
    endpoint = _endpoint(people, sink.url("/ok"))
    row = _ping(people, endpoint)
    login(people.ada).post(_url("settings-webhooks-rotate", pk=endpoint.pk))
    new = WebhookEndpoint.objects.get(pk=endpoint.pk).secret
    assert new != endpoint.secret
    _deliver(row)
    got = sink.deliveries[0]
    assert verify(new, got.signature, got.body)
    assert not verify(endpoint.secret, got.signature, got.body)


@pytest.mark.parametrize("who", ["alice", "max", "rita"])
def test_only_admins_reach_the_webhook_settings(people, login, who):
    endpoint = _endpoint(people, "https://hooks.example.test/desk")
    client = login(getattr(people, who))
    assert client.get(_url("settings-webhooks")).status_code == 404
    assert client.get(_url("settings-webhooks-detail", pk=endpoint.pk)).status_code == 404
    assert client.post(_url("settings-webhooks-toggle", pk=endpoint.pk)).status_code == 404
    assert client.get(_url("settings-notifications-dead")).status_code == 404


def test_charlie_gets_404(people, login):
    endpoint = _endpoint(people, "https://hooks.example.test/desk")
    client = login(people.charlie)
    assert client.get(_url("settings-webhooks")).status_code == 404
    assert client.get(_url("settings-webhooks-detail", pk=endpoint.pk)).status_code == 404


def test_another_tenants_admin_gets_404_for_acme_endpoints_and_dead_letters(people, login):
    endpoint = _endpoint(people, "https://hooks.example.test/desk")
    dead = _dead_row(people, _ping(people, endpoint))
    client = login(_globex_admin(people))
    detail = _url("settings-webhooks-detail", "globex", pk=endpoint.pk)
    assert client.get(detail).status_code == 404
    for name in ("settings-webhooks-toggle", "settings-webhooks-ping", "settings-webhooks-rotate"):
        assert client.post(_url(name, "globex", pk=endpoint.pk)).status_code == 404
    retry = _url("settings-notifications-retry", "globex", pk=dead.pk)
    assert client.post(retry).status_code == 404
    assert (
        "hooks.example.test"
        not in client.get(_url("settings-notifications-dead", "globex")).content.decode()
    )
    assert _reload(dead).status == "dead"


def test_the_delivery_log_costs_the_same_queries_for_5_or_40_deliveries(
    people, login, django_assert_max_num_queries
):
    endpoint = _endpoint(people, "https://hooks.example.test/desk")
    client = login(people.ada)
    for count in (5, 40):
        while Notification.objects.filter(endpoint=endpoint).count() < count:
            _ping(people, endpoint)
        with django_assert_max_num_queries(9):
            page = client.get(_url("settings-webhooks-detail", pk=endpoint.pk)).content.decode()
        assert page.count('data-testid="delivery"') == min(count, 50)


# --- Dead letter ------------------------------------------------------------------------------


def _dead_row(people, row: Notification) -> Notification:
    Notification.objects.filter(id=row.id).update(
        status="dead", attempts=row.max_attempts, last_error="HTTP 503: down for maintenance"
    )
    return _reload(row)


def _dead_email(people) -> Notification:
    row = services.notification_enqueue(
        tenant=people.acme,
        kind="acknowledgement",
        address="gone@acme.test",
        subject="We have your report",
        body="…",
    )
    Notification.objects.filter(id=row.id).update(
        status="dead", attempts=1, last_error="recipient refused"
    )
    return _reload(row)


def test_the_dead_letter_lists_failures_of_every_channel(people, login):
    webhook = _dead_row(people, _ping(people, _endpoint(people, "https://hooks.example.test/x")))
    email = _dead_email(people)
    page = login(people.ada).get(_url("settings-notifications-dead")).content.decode()
    assert page.count('data-testid="dead-notification"') == 2
    assert "HTTP 503: down for maintenance" in page
    assert "recipient refused" in page
    assert "gone@acme.test" in page and webhook.address in page
    assert email.get_channel_display() in page


def test_retry_sends_a_dead_delivery_again_with_the_same_id(
    people, login, sink, django_capture_on_commit_callbacks
):
    endpoint = _endpoint(people, sink.url("/ok"))
    dead = _dead_row(people, _ping(people, endpoint))
    client = login(people.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("settings-notifications-retry", pk=dead.pk), follow=True)
    assert "Sending" in response.content.decode()
    dead = _reload(dead)
    assert (dead.status, dead.attempts) == ("sent", 1)
    assert sink.ids() == {str(dead.delivery_id): 1}
    assert 'data-testid="dead-notification"' not in response.content.decode()


def test_the_dead_letter_list_costs_the_same_queries_for_3_or_30_rows(
    people, login, django_assert_max_num_queries
):
    endpoint = _endpoint(people, "https://hooks.example.test/x")
    client = login(people.ada)
    for count in (3, 30):
        while Notification.objects.filter(status="dead").count() < count:
            _dead_row(people, _ping(people, endpoint))
            _dead_email(people)
        with django_assert_max_num_queries(9):
            page = client.get(_url("settings-notifications-dead")).content.decode()
        assert page.count('data-testid="dead-notification"') == min(
            Notification.objects.filter(status="dead").count(), 30
        )


def test_a_retry_sends_the_incident_as_it_was_at_the_event(
    people, sink, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_BACKOFF_SECONDS = 0
    _endpoint(people, sink.url("/hook"), events=["incident.created"])
    sink.status = 503
    incident = _report(people, django_capture_on_commit_callbacks, title="Printer jam")
    type(incident).objects.filter(pk=incident.pk).update(title="Printer on fire")
    sink.status = 200
    [row] = _webhook_rows(people.acme)
    assert _deliver(row).status == "sent"
    first, second = sink.deliveries
    assert first.body == second.body
    assert second.json()["data"]["incident"]["title"] == "Printer jam"


@pytest.mark.browser
def test_ada_adds_an_endpoint_and_pings_it_from_her_phone(people, live_server, page, sink):
    from tests.escalation.test_inapp import _browser_login

    _browser_login(page, live_server, people.ada)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server.url + _url("settings-home"))
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_role("button", name="Add endpoint").click()
    page.get_by_label("URL").fill(sink.url("/ok"))
    page.get_by_label("Description").fill("Ops chat")
    page.get_by_label("Incident created").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret == WebhookEndpoint.objects.get(description="Ops chat").secret
    page.get_by_role("button", name="Send test ping").click()
    page.get_by_text("Test ping queued").wait_for()
    sink.wait_until(lambda: sink.ids(), what="the ping")
    assert [d.event for d in sink.deliveries] == ["ping"]
    page.reload()
    assert page.get_by_role("cell", name=sink.deliveries[0].delivery_id).is_visible()
