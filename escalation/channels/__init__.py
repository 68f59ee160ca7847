"""One Transport per channel, same shape: notify(notification) or raise TransportError."""

from escalation.channels.base import Transport, TransportError
from escalation.channels.email import EmailTransport
from escalation.channels.inapp import InAppTransport
from escalation.channels.webhook import WebhookTransport

TRANSPORTS: dict[str, type[Transport]] = {
    "email": EmailTransport,
    "inapp": InAppTransport,
    "webhook": WebhookTransport,
}


def transport_for(channel: str) -> Transport:
    return TRANSPORTS[channel]()


__all__ = ["Transport", "TransportError", "transport_for"]
