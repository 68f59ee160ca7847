"""Email through Django's mail backend (SMTP, or files under var/mail/ in the demo).

Every attempt ends within EMAIL_DEADLINE_SECONDS, connecting, the conversation and the message
together (deadline.py), whatever Celery's pool: a mail server that answers a byte at a time
cannot hold the worker past it. (With Django's SMTP backend, the one the desk documents; another
backend has only its own timeouts.)"""

from __future__ import annotations

import contextlib
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends import smtp

from escalation.channels.base import Transport, TransportError
from escalation.channels.deadline import Deadline
from escalation.models import Notification
from mail.services.threads import subject_with_token, thread_headers


def message_id(notification: Notification) -> str:
    """Stable across retries, so a receiver can drop the rare repeat after a crash mid-send."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{notification.delivery_id}@{domain}>"


def headers_for(notification: Notification) -> tuple[str, dict[str, str]]:
    """The subject and headers: a mail about an incident joins its thread (mail.services.threads)
    and answers to the intake address, so answering it is answering the desk."""
    headers = {
        "Message-ID": message_id(notification),
        # Ask autoresponders (out-of-office) not to answer the desk's mail.
        "Auto-Submitted": "auto-generated",
        "X-Auto-Response-Suppress": "All",
    }
    incident = notification.incident
    if incident is None or incident.number is None:
        return notification.subject, headers
    headers |= thread_headers(
        incident=incident, message_id=headers["Message-ID"], kind=notification.kind
    )
    return subject_with_token(notification.subject, incident), headers


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class DeadlineSMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, its connection watched by the deadline from the server's greeting
    on (the plain backend shows its connection only after the greeting, STARTTLS and the
    login, each of which a slow server could stretch)."""

    def __init__(self, *args: Any, deadline: Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        base: type[smtplib.SMTP] = super().connection_class
        deadline = self.deadline

        def connect(conn: smtplib.SMTP, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
            # `sock` is set once the TCP connection stands, before the greeting is read.
            deadline.watch(lambda: getattr(conn, "sock", None))
            return base.connect(conn, *args, **kwargs)

        return type("DeadlineSMTP", (base,), {"connect": connect})


def _backend(deadline: Deadline) -> Any:
    # Each step waits EMAIL_TIMEOUT at most, and never past the deadline.
    timeout = deadline.timeout(settings.EMAIL_TIMEOUT)
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return DeadlineSMTPBackend(timeout=timeout, deadline=deadline)
    return get_connection(timeout=timeout)


class EmailTransport(Transport):
    def notify(self, notification: Notification) -> None:
        with self.session() as session:
            session.send(notification)

    @contextmanager
    def session(self) -> Iterator[Mailer]:
        with Deadline(settings.EMAIL_DEADLINE_SECONDS) as deadline:
            mailer = Mailer(deadline)
            try:
                yield mailer
            finally:
                mailer.close()


class Mailer:
    """Mails sent over one connection to the mail server, all within one deadline: a storm's
    alerts cost one conversation per batch, not one each."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.backend: Any = None

    def has_time(self) -> bool:
        return self.deadline.left() >= min(settings.EMAIL_TIMEOUT, self.deadline.seconds / 2)

    def send(self, notification: Notification) -> None:
        subject, headers = headers_for(notification)
        message = EmailMessage(
            subject=subject, body=notification.body, to=[notification.address], headers=headers
        )
        try:
            if self.backend is None:
                self.backend = _backend(self.deadline)
                self.backend.open()  # kept open: send_messages leaves a connection it did not open
            message.connection = self.backend
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()  # the conversation may be broken: the next mail starts afresh
            raise self._error(exc) from exc

    def _error(self, exc: smtplib.SMTPException | OSError) -> TransportError:
        if self.deadline.expired:
            return TransportError(
                f"mail server did not finish within the deadline of {self.deadline.seconds:g}s",
                slow=True,
            )
        if isinstance(exc, smtplib.SMTPException):
            return smtp_error(exc)
        # refused connection, timeout, DNS
        return TransportError(f"mail server unreachable: {exc}", slow=isinstance(exc, TimeoutError))

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                backend.close()


def smtp_error(exc: smtplib.SMTPException) -> TransportError:
    """5xx answers are permanent for this message; 4xx and lost connections are worth a retry.

    A refused login or sender is the desk's own configuration: retried, so that mail written
    while an operator fixes it is not lost.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in exc.recipients.items()
        )
        return TransportError(f"recipient refused: {detail}", permanent=min(codes) >= 500)
    if isinstance(exc, smtplib.SMTPAuthenticationError | smtplib.SMTPSenderRefused):
        return TransportError(
            f"mail server refused the desk's login or sender: {exc.smtp_code} "
            f"{_text(exc.smtp_error)}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return TransportError(
            f"mail server answered {exc.smtp_code} {_text(exc.smtp_error)}",
            permanent=exc.smtp_code >= 500,
        )
    return TransportError(f"mail server: {exc}")


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
