"""Webhooks go to the internet, not to the desk's own network.

A tenant admin chooses the URL and the desk's workers make the request, so without this check
one tenant could make the desk call its database, its cloud metadata service (169.254.169.254)
or another internal service. Checked when an endpoint is saved and again before each delivery,
as a name may resolve elsewhere later. WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1 lifts it for a desk
whose receivers live on its own network (and for tests, whose receivers run on this machine).
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


def private_address_error(hostname: str, port: int | None = None) -> str | None:
    """Why the desk will not send to this host, or None. A name that does not resolve now
    passes: its delivery is checked again, and fails as unreachable until it resolves."""
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return None
    try:
        found = socket.getaddrinfo(hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    for *_, sockaddr in found:
        address = str(sockaddr[0])
        if _refused(address):
            return (
                f"Webhooks go only to public addresses: {hostname} is a private, loopback or "
                f"reserved address ({address})."
            )
    return None
