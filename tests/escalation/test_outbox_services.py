"""The outbox's rules, run in this process (tasks eager) against a local SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from escalation.models import Notification, NotificationStatus
from escalation.services import delivery
from escalation.services import outbox as services
from escalation.tasks import relay_notifications
from incidents.services import incident_report
from tests.escalation.smtp_sink import free_port
from tests.escalation.worker import celery_app_publishing_to

Status = NotificationStatus


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_sink.host, smtp_sink.port
    settings.EMAIL_TIMEOUT = 5
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    return settings


def _report(people, capture) -> Notification:
    with capture(execute=True):
        incident = incident_report(
            actor=people.actor(people.rita), title="Printer jams", category=people.network
        )
    return Notification.objects.get(incident=incident)


def test_greylisting_at_the_recipient_is_retried_later_not_given_up(
    people, smtp_settings, smtp_sink, django_capture_on_commit_callbacks
):
    smtp_sink.rcpt_reply = "450 4.2.0 Greylisted, come back later"
    before = timezone.now()
    notification = _report(people, django_capture_on_commit_callbacks)
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "450" in notification.last_error and "Greylisted" in notification.last_error
    assert notification.next_attempt_at >= before + timedelta(seconds=30)


def test_an_unreachable_mail_server_is_retried_later(
    people, smtp_settings, django_capture_on_commit_callbacks
):
    smtp_settings.EMAIL_PORT = free_port()  # nothing listens there
    notification = _report(people, django_capture_on_commit_callbacks)
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "unreachable" in notification.last_error


def test_a_rejected_message_is_dead_with_the_servers_reason(
    people, smtp_settings, smtp_sink, django_capture_on_commit_callbacks
):
    smtp_sink.refuse_next(1, "554 5.7.1 Message refused as spam")
    notification = _report(people, django_capture_on_commit_callbacks)
    assert (notification.status, notification.attempts) == (Status.DEAD, 1)
    assert "554" in notification.last_error and "spam" in notification.last_error


def test_the_backoff_doubles_and_stops_growing_at_its_cap(settings):
    settings.NOTIFICATION_BACKOFF_SECONDS = 30
    settings.NOTIFICATION_BACKOFF_MAX_SECONDS = 3600
    waits = [delivery._backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_channel_without_transport_is_dead_at_once(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_enqueue(
            tenant=people.acme, kind="test", address="x", subject="s", body="b", channel="pigeon"
        )
    notification.refresh_from_db()
    assert notification.status == Status.DEAD
    assert "pigeon" in notification.last_error


def test_the_relay_buries_a_row_abandoned_during_its_last_attempt(people):
    stale = timezone.now() - services.stale_claim_age() - timedelta(seconds=1)
    notification = _row(people, status=Status.SENDING, attempts=8, max_attempts=8, claimed_at=stale)
    relay_notifications()
    notification.refresh_from_db()
    assert notification.status == Status.DEAD
    assert "last attempt" in notification.last_error


def test_the_relay_leaves_a_fresh_claim_alone(people):
    notification = _row(people, status=Status.SENDING, attempts=1, claimed_at=timezone.now())
    assert services.notifications_due() == []
    assert services.notification_deliver(notification_id=notification.id) == "skipped"


def test_the_relay_finds_a_row_whose_first_trigger_was_lost(people, settings):
    settings.NOTIFICATION_RELAY_AFTER_SECONDS = 120
    old = timezone.now() - timedelta(seconds=121)
    lost = _row(people, next_attempt_at=old)
    _row(people)  # just written: its own trigger is still on the way
    assert services.notifications_due() == [lost.id]


def test_a_broker_outage_at_commit_does_not_fail_the_report(
    people, django_capture_on_commit_callbacks
):
    closed = {"url": f"redis://127.0.0.1:{free_port()}/0", "options": {}}
    with celery_app_publishing_to(closed):
        notification = _report(people, django_capture_on_commit_callbacks)
    assert notification.incident.reference == "INC-000001"
    assert (notification.status, notification.attempts) == (Status.PENDING, 0)


def test_a_dead_notification_retried_by_a_person_is_sent(
    people, smtp_settings, smtp_sink, django_capture_on_commit_callbacks
):
    notification = _row(people, status=Status.DEAD, attempts=8, last_error="550 no")
    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notification_retry(notification=notification)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)
    assert len(smtp_sink.accepted) == 1


def _row(people, **fields) -> Notification:
    defaults = {"tenant": people.acme, "kind": "test", "address": "rita@acme.test",
                "subject": "Hello", "body": "Body", "max_attempts": 8}  # fmt: skip
    return Notification.objects.create(**{**defaults, **fields})


def test_an_operator_retries_failed_notifications_from_the_admin(
    people, admin_client, django_capture_on_commit_callbacks
):
    dead = _row(people, status=Status.DEAD, attempts=8, last_error="451 busy")
    sent = _row(people, status=Status.SENT, attempts=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/escalation/notification/",
            {"action": "retry_failed", "_selected_action": [dead.id, sent.id]},
            follow=True,
        )
    assert "1 failed notification(s) will be sent again." in response.content.decode()
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert (dead.status, dead.attempts) == (Status.SENT, 1)
    assert sent.attempts == 1
    assert [m.to for m in mail.outbox] == [["rita@acme.test"]]
