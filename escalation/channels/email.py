import smtplib
import socket

from django.conf import settings
from django.core.mail import EmailMessage

from escalation.channels.base import Transport, TransportError
from escalation.models import Notification


class EmailTransport(Transport):
    def notify(self, notification: Notification) -> None:
        domain = settings.SITE_URL.split("//")[-1].split(":")[0].split("/")[0] or "localhost"
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            to=[notification.address],
            headers={"Message-ID": f"<{notification.delivery_id}@{domain}>"},
        )
        try:
            message.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TransportError(f"mail server: {exc}") from exc
