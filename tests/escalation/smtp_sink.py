"""A local SMTP server for tests: the edge of the world, faked by a real server on 127.0.0.1.

It records every message whose content reached it and answers as the test scripts it: a queue
of replies to DATA (4xx to refuse for now, 5xx for good), a reply to RCPT, and an optional stall
that holds the next DATA unanswered, as a slow server does while a worker dies mid-send.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

ACCEPT = "250 2.0.0 OK: queued"


@dataclass
class Attempt:
    at: float  # time.monotonic() when the content arrived
    message: EmailMessage
    reply: str

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("2")


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    data_replies: deque[str] = field(default_factory=deque)
    rcpt_reply: str = "250 2.1.5 OK"
    attempts: list[Attempt] = field(default_factory=list)
    stall_next: bool = False
    _release: threading.Event = field(default_factory=threading.Event)

    @property
    def accepted(self) -> list[EmailMessage]:
        return [a.message for a in self.attempts if a.accepted]

    def refuse_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        self.data_replies.extend([reply] * count)

    def release(self) -> None:
        self._release.set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.rcpt_reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return self.rcpt_reply

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        reply = self.data_replies.popleft() if self.data_replies else ACCEPT
        self.attempts.append(Attempt(time.monotonic(), message, reply))
        if self.stall_next:
            self.stall_next = False
            while not self._release.is_set():
                await asyncio.sleep(0.05)
        return reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink() -> tuple[SmtpSink, Controller]:
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    return sink, controller
