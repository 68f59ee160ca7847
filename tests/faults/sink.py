"""A local webhook receiver for tests: an http.server in a thread that records every POST.

The path decides the answer, so a test states the receiver's behaviour in the endpoint URL:
  /ok                      200
  /status/<code>           that status
  /slow/<seconds>          wait, then 200 (the wait ends early when the sink stops)
  /redirect/<code>?to=URL  that 3xx status with Location: URL
  /trickle/<seconds>       a 200 answer written one byte every <seconds>, status line included
  /trickle-body/<seconds>  status line and headers at once, then the body a byte at a time
                           (?close=1: with "Connection: close")
Anything else answers `sink.status` (200 unless a test changes it) after `sink.delay` seconds,
which the fault tests turn up and down while workers deliver.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.monotonic)
    # The answer the sink chose; 2xx means it took the delivery in, even if the sender was gone
    # by the time the answer was written (a real receiver would have acted on it by then).
    status: int | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def delivery_id(self) -> str:
        return self.headers.get("x-desk-delivery", "")

    @property
    def event(self) -> str:
        return self.headers.get("x-desk-event", "")

    @property
    def signature(self) -> str:
        return self.headers.get("x-desk-signature", "")

    def json(self) -> dict:
        return json.loads(self.body)


class WebhookSink:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.deliveries: list[Delivery] = []
        self.in_flight: dict[int, Delivery] = {}
        self.status = 200
        self.delay = 0.0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._host = host
        self._server = ThreadingHTTPServer((host, 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str = "/hook") -> str:
        return f"http://{self._host}:{self._server.server_port}{path}"

    # --- what arrived ---------------------------------------------------------------------
    def ids(self) -> Counter[str]:
        """How many times the sink took each delivery id in (answered it with a 2xx)."""
        with self._lock:
            return Counter(d.delivery_id for d in self.deliveries if d.accepted)

    def received_ids(self) -> Counter[str]:
        """How many requests arrived per delivery id, whatever the answer."""
        with self._lock:
            return Counter(d.delivery_id for d in self.deliveries)

    def in_flight_ids(self) -> set[str]:
        """Delivery ids whose request arrived and has not been answered yet."""
        with self._lock:
            return {d.delivery_id for d in self.in_flight.values()}

    def wait_until(self, predicate, timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"sink: timed out waiting for {what or predicate}; got {self.ids()}")

    # --- called by the handler ------------------------------------------------------------
    def _record(self, delivery: Delivery) -> int:
        with self._lock:
            self.deliveries.append(delivery)
            key = id(delivery)
            self.in_flight[key] = delivery
        return key

    def _answered(self, key: int) -> None:
        with self._lock:
            self.in_flight.pop(key, None)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            delivery = Delivery(path=self.path, headers=headers, body=body)
            key = sink._record(delivery)
            try:
                if self.path.startswith("/trickle"):
                    self._trickle(delivery)
                else:
                    delivery.status, extra = self._behaviour()
                    self._answer(delivery.status, extra)
            except OSError:
                pass  # the sender gave up (timeout) or was killed while we waited
            finally:
                sink._answered(key)

        def _trickle(self, delivery: Delivery) -> None:
            """A receiver that never times a socket out: a byte every few seconds."""
            kind, seconds = urlsplit(self.path).path.strip("/").split("/")[:2]
            payload = b'{"received": true, "padding": "' + b"." * 64 + b'"}'
            close = b"Connection: close\r\n" if "close=1" in self.path else b""
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + close
                + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            )
            slow = head + payload
            if kind == "trickle-body":
                self.wfile.write(head)
                self.wfile.flush()
                delivery.status = 200  # said 200: taken in, whatever the body does next
                slow = payload
            for n in range(len(slow)):
                if sink._stopping.is_set():
                    return
                self.wfile.write(slow[n : n + 1])
                self.wfile.flush()
                sink._wait(float(seconds))
            delivery.status = 200  # the whole answer went out
            self.close_connection = True

        def _behaviour(self) -> tuple[int, dict[str, str]]:
            parts = urlsplit(self.path)
            bits = parts.path.strip("/").split("/")
            if bits[0] == "ok":
                return 200, {}
            if bits[0] == "status" and len(bits) > 1:
                return int(bits[1]), {}
            if bits[0] == "slow" and len(bits) > 1:
                sink._wait(float(bits[1]))
                return 200, {}
            if bits[0] == "redirect" and len(bits) > 1:
                return int(bits[1]), {"Location": parse_qs(parts.query)["to"][0]}
            if sink.delay:
                sink._wait(sink.delay)
            return sink.status, {}

        def _answer(self, status: int, extra: dict[str, str]) -> None:
            payload = b'{"received": true}' if status < 300 else b'{"error": "sink says no"}'
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: tests assert on what arrived, not on access logs

    return Handler
