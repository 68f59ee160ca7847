"""The running SMTP intake for tests, on a free loopback port, and helpers to write mail."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid

from asgiref.sync import sync_to_async
from django.db import connections

from mail.intake import intake_controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_intake() -> Iterator[int]:
    port = free_port()
    controller = intake_controller("127.0.0.1", port)
    controller.start()
    try:
        yield port
    finally:
        # The intake's database work runs in asgiref's one sync thread: close its connection,
        # or the test database cannot be dropped.
        close = sync_to_async(connections.close_all, thread_sensitive=True)
        asyncio.run_coroutine_threadsafe(close(), controller.loop).result(timeout=10)
        controller.stop()


def mail(
    *,
    sender: str,
    to: str,
    subject: str = "The printer is jammed",
    body: str = "Paper stuck in tray 2.",
    cc: str = "",
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="mail.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message
