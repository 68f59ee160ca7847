"""A tenant's admin names the IMAP server; the desk's workers must not be sent into its own
network (tenancy/addresses.py), neither when it is saved nor when it is polled."""

from __future__ import annotations

import pytest

from mail.models import IntakeAddress
from mail.services.admin import intake_address_create
from mail.services.imap import intake_poll
from tenancy.actors import Actor
from tenancy.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_refused(settings):
    settings.MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES = False


def test_a_private_imap_server_is_refused_when_saved(people, private_refused):
    with pytest.raises(InvalidInput) as refused:
        intake_address_create(
            actor=Actor.system(people.acme),
            address="help@acme.test",
            imap_enabled=True,
            imap_host="localhost",
            imap_username="help",
            imap_password="secret",
        )
    assert refused.value.field == "imap_host"
    assert "Mailboxes are polled only at public addresses" in refused.value.message
    assert not IntakeAddress.objects.exists()


def test_a_server_that_now_resolves_privately_is_not_polled(people, private_refused):
    # Saved while the check was off (or while the name resolved elsewhere): polling refuses it.
    intake = IntakeAddress.objects.create(
        tenant=people.acme,
        address="help@acme.test",
        imap_enabled=True,
        imap_host="127.0.0.1",
        imap_username="help",
        imap_password="secret",
    )
    intake_poll(intake=intake)
    intake.refresh_from_db()
    assert intake.imap_last_error.startswith("Host refused:")
    assert "127.0.0.1" in intake.imap_last_error
