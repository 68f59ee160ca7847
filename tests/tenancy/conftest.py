"""Helpers for the people tests: read links out of the mails the desk sent."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail

from tests.factories import PASSWORD

LINK = re.compile(r"https?://\S+")


def link_path(message: mail.EmailMessage) -> str:
    """The one link in a mail, as a path for the test client."""
    links = LINK.findall(str(message.body))  # the stubs allow a lazy string
    assert len(links) >= 1, message.body
    assert links[0].startswith(settings.SITE_URL), links[0]
    return links[0][len(settings.SITE_URL) :]


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


@pytest.fixture
def admin_client(client, people):
    assert client.login(email=people.ada.email, password=PASSWORD)
    return client


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run a request (or any call) and deliver the outbox mails it queued once it commits."""

    def _send(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return _send
