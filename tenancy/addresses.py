"""Hosts a tenant admin names (a webhook's URL, a mailbox's IMAP server) are on the internet,
not on the desk's own network.

A tenant admin chooses the host and the desk's workers connect to it, so without this check
one tenant could make the desk call its database, its cloud metadata service (169.254.169.254)
or another internal service. Checked when the setting is saved and again before each
connection, as a name may resolve elsewhere later; the connection then goes to the very
addresses checked, never resolving the name a second time. WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1
(MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES=1 for mailboxes) lifts it for a desk whose receivers or mail
server live on its own network (and for tests, whose servers run here).
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings


def _refused(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # an IPv6 zone id is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


class AddressRefused(ValueError):
    """The host resolves to an address the desk does not send to."""


def deliverable_addresses(
    hostname: str,
    port: int | None = None,
    *,
    what: str = "Webhooks go only to public addresses",
    allow_private: bool | None = None,
) -> list[str]:
    """The addresses to connect to for `hostname`, every one of them checked.

    The delivery connects to these and no others: resolving the name again to connect could
    give another answer (DNS rebinding: public for the check, then 127.0.0.1). Raises
    AddressRefused when one of them is private, OSError when the name does not resolve."""
    try:
        found = socket.getaddrinfo(hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (UnicodeError, ValueError) as exc:
        raise OSError(f"{hostname} is not a host name: {exc}") from exc
    addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES if allow_private is None else allow_private:
        return addresses
    for address in addresses:
        if _refused(address):
            raise AddressRefused(
                f"{what}: {hostname} is a private, loopback or reserved address ({address})."
            )
    return addresses


def private_address_error(
    hostname: str,
    port: int | None = None,
    *,
    what: str = "Webhooks go only to public addresses",
    allow_private: bool | None = None,
) -> str | None:
    """Why the desk will not connect to this host, or None. A name that does not resolve now
    passes: it is checked again before each connection, which fails until it resolves."""
    try:
        deliverable_addresses(hostname, port, what=what, allow_private=allow_private)
    except AddressRefused as exc:
        return str(exc)
    except OSError:
        return None
    return None
