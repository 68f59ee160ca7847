"""One Transport per channel, same shape: notify(notification) or raise TransportError.

A new channel is a module here with one Transport class, registered in TRANSPORTS.
"""

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
    try:
        return TRANSPORTS[channel]()
    except KeyError:
        raise TransportError(f"no transport for channel {channel!r}", permanent=True) from None


__all__ = ["TRANSPORTS", "Transport", "TransportError", "transport_for"]
