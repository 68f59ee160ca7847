"""Webhooks: a JSON POST signed with HMAC-SHA256 over "<timestamp>.<body>".

Every attempt ends within WEBHOOK_DEADLINE_SECONDS, connecting, sending and reading together
(deadline.py), whatever Celery's pool (the name's resolution counts against it, bounded by the
system's resolver); a receiver that answered 2xx has the delivery, so its body is never read.

Headers: X-Desk-Event; X-Desk-Delivery, the row's delivery id, the same on every retry so a
receiver can drop a repeat; X-Desk-Signature "t=<unix seconds>,v1=<hex digest>", signed anew at
each attempt so receivers can refuse old timestamps. 2xx is delivered; 408, 429, 5xx, timeouts
and unreachable hosts are retried; 410, other 4xx and redirects to another host are permanent.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from escalation.channels.base import Transport, TransportError
from escalation.channels.deadline import Deadline
from escalation.models import Notification
from tenancy.addresses import AddressRefused, deliverable_addresses

USER_AGENT = "ServiceDesk-Webhooks/1"
RETRYABLE_4XX = frozenset({408, 429})
MAX_SAME_HOST_REDIRECTS = 3
MIN_ATTEMPT_SECONDS = 2.0  # Go's dialer's floor per address
BODY_GRACE_SECONDS = 0.5  # an accepted answer's body, read only to close the connection cleanly


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Desk-Signature value: the receiver recomputes v1 from t and the raw body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def render_body(
    *, event: str, payload: dict[str, Any], text: str, tenant_slug: str, at: datetime, slack: bool
) -> str:
    """The body is fixed when the row is written, so every retry sends the same bytes."""
    if slack:
        return json.dumps({"text": text})
    envelope = {
        "event": event,
        "created_at": at.isoformat().replace("+00:00", "Z"),
        "tenant": tenant_slug,
        "text": text,
        "data": payload,
    }
    return json.dumps(envelope, default=str, sort_keys=True)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or ""), parts.port


def _post_once(
    url: str, body: bytes, headers: dict[str, str], deadline: Deadline
) -> tuple[int, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url}", permanent=True)
    try:
        addresses = deliverable_addresses(parts.hostname, parts.port)
    except AddressRefused as exc:
        raise TransportError(str(exc), permanent=True) from exc
    except OSError as exc:
        raise TransportError(f"{parts.hostname} does not resolve: {exc}") from exc
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    timeout = deadline.timeout(settings.WEBHOOK_TIMEOUT_SECONDS)
    conn = cls(parts.hostname, parts.port, timeout=timeout)
    # The Host header and TLS (SNI, certificate) still name the host; only the socket is pinned.
    # typeshed leaves out http.client's socket factory hook (set in HTTPConnection.__init__).
    conn._create_connection = _connect_to(addresses)  # type: ignore[attr-defined]
    deadline.watch(lambda: conn.sock)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", target, body=body, headers=headers)
        # Kept: an answer with "Connection: close" takes conn.sock away while its body is read.
        sock = conn.sock
        deadline.watch(lambda: sock)
        response = conn.getresponse()
        location = response.getheader("Location") or ""
        if 200 <= response.status < 300:
            _finish(response, sock)  # taken in: the body matters no more
            return response.status, "", location
        return response.status, _detail(response), location
    except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors too
        if deadline.expired:
            raise TransportError(
                f"{parts.hostname} did not answer within the deadline of "
                f"{deadline.seconds:g}s (connect, send and read together)",
                slow=True,
            ) from exc
        slow = isinstance(exc, TimeoutError)
        raise TransportError(f"{parts.hostname} did not answer: {exc!r}", slow=slow) from exc
    finally:
        conn.close()


def _finish(response: http.client.HTTPResponse, sock: socket.socket | None) -> None:
    """Read the rest of an accepted answer, so the connection closes cleanly (closing on unread
    bytes resets it), but give a body that trickles no more than a moment."""
    with contextlib.suppress(OSError, http.client.HTTPException):
        if sock is not None:
            sock.settimeout(BODY_GRACE_SECONDS)
        response.read(64 * 1024)


def _detail(response: http.client.HTTPResponse) -> str:
    """The start of a refusal's body, for last_error: as much as arrives before the deadline."""
    try:
        return response.read(300).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""


def _connect_to(addresses: list[str]):
    """http.client's socket factory, made to try only the checked addresses, in order.

    The timeout (WEBHOOK_TIMEOUT_SECONDS, always given) is the connection's budget, not each
    address's. As Go's dialer spreads it, each attempt gets an equal share of what is left, but
    at least MIN_ATTEMPT_SECONDS (or all that is left): a host with many unreachable addresses
    holds the worker for one timeout, not one per address, and no attempt is cut so short that
    one lost packet skips a live address. A connected socket gets the whole timeout back for
    each read."""

    def create(address, timeout: float, source_address=None):
        deadline = time.monotonic() + timeout
        error: OSError | None = None
        for tried, ip in enumerate(addresses):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            share = max(left / (len(addresses) - tried), min(MIN_ATTEMPT_SECONDS, left))
            try:
                sock = socket.create_connection((ip, address[1]), share, source_address)
            except OSError as exc:
                error = exc
                continue
            sock.settimeout(timeout)
            return sock
        raise error or OSError("no address to connect to")

    return create


def post(url: str, body: bytes, headers: dict[str, str], deadline: Deadline) -> tuple[int, str]:
    """POST, following only 307/308 redirects that stay on the same scheme, host and port, all
    within the one deadline."""
    for _ in range(MAX_SAME_HOST_REDIRECTS + 1):
        status, detail, location = _post_once(url, body, headers, deadline)
        if status not in (307, 308) or not location:
            return status, detail
        target = urljoin(url, location)
        if _origin(target) != _origin(url):
            raise TransportError(
                f"HTTP {status}: redirected to another host ({urlsplit(target).netloc}), "
                "which is never followed; update the endpoint's URL",
                permanent=True,
            )
        url = target
    raise TransportError("too many redirects", permanent=True)


def check_status(status: int, detail: str) -> None:
    if 200 <= status < 300:
        return
    message = f"HTTP {status}: {detail.strip()[:200]}"
    if status >= 500 or status in RETRYABLE_4XX:
        raise TransportError(message)
    if 300 <= status < 400:
        message = f"HTTP {status}: webhook redirects are not followed; update the endpoint's URL"
    # 410 Gone, every other 4xx, and redirects we do not follow: sending again cannot help.
    raise TransportError(message, permanent=True)


class WebhookTransport(Transport):
    def notify(self, notification: Notification) -> None:
        with self.session() as session:
            session.send(notification)

    @contextmanager
    def session(self) -> Iterator[Poster]:
        with Deadline(settings.WEBHOOK_DEADLINE_SECONDS) as deadline:
            yield Poster(deadline)


class Poster:
    """POSTs one after another within one deadline (an endpoint's rows, delivery._drain)."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def has_time(self) -> bool:
        return self.deadline.left() >= min(
            settings.WEBHOOK_TIMEOUT_SECONDS, self.deadline.seconds / 2
        )

    def send(self, notification: Notification) -> None:
        endpoint = notification.endpoint
        if endpoint is None:
            raise TransportError("the webhook endpoint was deleted", permanent=True)
        if not endpoint.is_active:
            raise TransportError("the webhook endpoint is disabled", permanent=True)
        body = notification.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Desk-Event": notification.kind,
            "X-Desk-Delivery": str(notification.delivery_id),
            "X-Desk-Signature": sign(endpoint.secret, int(time.time()), body),
        }
        check_status(*post(endpoint.url, body, headers, self.deadline))
