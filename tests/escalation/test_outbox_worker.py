"""The outbox against the real thing: a Celery worker process and an SMTP server on 127.0.0.1."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from escalation.models import Notification, NotificationStatus
from escalation.services.outbox import stale_claim_age
from escalation.tasks import deliver_notification
from incidents.services import incident_report
from tests.escalation.worker import wait_until

Status = NotificationStatus
# Fast timings for the worker: retries after 1s, 2s, ...; the relay runs every second.
FAST = {
    "NOTIFICATION_BACKOFF_SECONDS": "1",
    "NOTIFICATION_RELAY_INTERVAL_SECONDS": "1",
    "NOTIFICATION_RELAY_AFTER_SECONDS": "5",
}


def _report(people) -> Notification:
    incident = incident_report(
        actor=people.actor(people.rita), title="VPN drops every hour", impact="high",
        urgency="medium", category=people.network,
    )  # fmt: skip
    return Notification.objects.get(incident=incident, kind="acknowledgement")


def _status(notification: Notification) -> str:
    notification.refresh_from_db()
    return notification.status


def test_a_reported_incidents_acknowledgement_reaches_the_mail_server_once(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    worker = celery_worker_process(env={**mail_to_sink, **FAST}, beat=True)
    notification = _report(people)
    wait_until(lambda: _status(notification) == Status.SENT, what="the acknowledgement sent")
    worker.wait_for_log("escalation.relay_notifications", count=6)  # relay ran a few times more
    assert len(smtp_sink.accepted) == 1
    mail = smtp_sink.accepted[0]
    assert mail["Message-ID"] == f"<{notification.delivery_id}@desk.example.test>"
    assert mail["To"] == "rita@acme.test"
    assert "INC-000001" in mail["Subject"]
    assert "VPN drops every hour" in mail.get_content()
    assert (notification.attempts, notification.last_error) == (1, "")


def test_a_refusing_mail_server_is_retried_with_backoff_until_it_accepts(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    smtp_sink.refuse_next(2, "451 4.3.0 Mailbox busy, try again later")
    celery_worker_process(env={**mail_to_sink, **FAST}, beat=True)
    notification = _report(people)
    wait_until(lambda: _status(notification) == Status.SENT, timeout=30, what="sent after retries")
    assert [a.reply[:3] for a in smtp_sink.attempts] == ["451", "451", "250"]
    first, second, third = (a.at for a in smtp_sink.attempts)
    assert second - first >= 1.0  # backoff 1s after the first refusal
    assert third - second >= 2.0  # then 2s
    assert len(smtp_sink.accepted) == 1
    assert notification.attempts == 3
    assert notification.sent_at is not None


def test_a_permanent_refusal_marks_the_notification_dead_at_once(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    smtp_sink.rcpt_reply = "550 5.1.1 No such mailbox"
    worker = celery_worker_process(env={**mail_to_sink, **FAST}, beat=True)
    notification = _report(people)
    wait_until(lambda: _status(notification) == Status.DEAD, what="the notification dead")
    worker.wait_for_log("escalation.relay_notifications", count=4)
    notification.refresh_from_db()
    assert notification.attempts == 1  # nobody tries again
    assert "550" in notification.last_error and "No such mailbox" in notification.last_error
    assert smtp_sink.accepted == []


def test_a_notification_dies_after_its_last_attempt(
    people, celery_worker_process, smtp_sink, mail_to_sink, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    smtp_sink.refuse_next(10)
    celery_worker_process(env={**mail_to_sink, **FAST}, beat=True)
    notification = _report(people)
    wait_until(lambda: _status(notification) == Status.DEAD, timeout=30, what="dead after 3")
    assert notification.attempts == 3
    assert len(smtp_sink.attempts) == 3
    assert "451" in notification.last_error


def test_a_notification_left_sending_by_a_dead_worker_is_sent_again_by_the_relay(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    smtp_sink.stall_next = True  # the server holds its answer; the worker dies waiting
    first = celery_worker_process(env=mail_to_sink)
    notification = _report(people)
    wait_until(lambda: len(smtp_sink.attempts) == 1, what="the first send under way")
    first.kill()
    smtp_sink.release()
    assert _status(notification) == Status.SENDING
    # Stand in for the wait: the claim is now older than any live attempt can be.
    Notification.objects.filter(id=notification.id).update(
        claimed_at=F("claimed_at") - stale_claim_age()
    )
    celery_worker_process(env={**mail_to_sink, **FAST}, beat=True)
    wait_until(lambda: _status(notification) == Status.SENT, what="re-sent by the relay")
    # At least once: the receiver got it twice with one Message-ID, enough to drop the repeat.
    ids = {a.message["Message-ID"] for a in smtp_sink.attempts}
    assert len(smtp_sink.attempts) == 2 and ids == {
        f"<{notification.delivery_id}@desk.example.test>"
    }
    assert notification.attempts == 2


def test_a_sent_notification_is_never_sent_twice(
    people, celery_worker_process, smtp_sink, mail_to_sink
):
    worker = celery_worker_process(env=mail_to_sink)
    notification = _report(people)
    wait_until(lambda: _status(notification) == Status.SENT, what="the acknowledgement sent")
    sent_at = notification.sent_at
    deliver_notification.delay(notification.id)
    deliver_notification.delay(notification.id)
    worker.wait_for_log("'skipped'", count=2)
    notification.refresh_from_db()
    assert len(smtp_sink.accepted) == 1
    assert (notification.status, notification.attempts, notification.sent_at) == (
        Status.SENT, 1, sent_at,
    )  # fmt: skip
    assert timezone.now() >= sent_at
