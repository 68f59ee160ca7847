"""The audit log of email intake settings (issue 17): intake addresses, their IMAP mailboxes and
the policy for senders who are not members. The IMAP password is recorded as changed, never
shown; a refused change records nothing."""

from __future__ import annotations

import pytest

from mail.services import admin
from tenancy.audit import changes_in_words
from tenancy.errors import InvalidInput, NotAllowed

pytestmark = pytest.mark.django_db
SECRET = "s3cret-imap-pass"


def _mailbox(**changes):
    fields = {
        "imap_enabled": True,
        "imap_host": "127.0.0.1",
        "imap_port": 993,
        "imap_username": "help",
        "imap_password": SECRET,
    }
    return {**fields, **changes}


def test_an_intake_address_and_its_mailbox_are_recorded_without_the_password(people, audit):
    ada = people.actor(people.ada)
    intake = admin.intake_address_create(
        actor=ada, address="help@acme.test", category=people.network, **_mailbox()
    )
    admin.intake_address_update(
        actor=ada,
        intake=intake,
        address="help@acme.test",
        category=people.network,
        urgency="high",
        **_mailbox(imap_password="another-pass", imap_folder="Support"),
    )
    made, changed = audit()
    assert (made.action, made.target_label) == ("intake_address.created", "help@acme.test")
    assert made.after["category"] == "Network"
    assert made.after["imap_host"] == "127.0.0.1"
    assert made.after["imap_password"] == "set"
    assert (changed.action, changed.before, changed.after) == (
        "intake_address.changed",
        {"urgency": "Medium", "imap_folder": "INBOX"},
        {"urgency": "High", "imap_folder": "Support", "imap_password": "changed"},
    )
    for record in (made, changed):
        text = f"{record.before} {record.after}"
        assert SECRET not in text and "another-pass" not in text
    assert "Imap password: changed" in changes_in_words(changed)


def test_a_blank_password_keeps_the_stored_one_and_records_no_password_change(people, audit):
    ada = people.actor(people.ada)
    intake = admin.intake_address_create(actor=ada, address="help@acme.test", **_mailbox())
    admin.intake_address_update(
        actor=ada, intake=intake, address="help@acme.test", **_mailbox(imap_password="")
    )
    assert [r.action for r in audit()] == ["intake_address.created"]


def test_deactivating_and_reactivating_an_address_are_recorded(people, audit):
    ada = people.actor(people.ada)
    intake = admin.intake_address_create(actor=ada, address="help@acme.test")
    admin.intake_address_deactivate(actor=ada, intake=intake)
    admin.intake_address_deactivate(actor=ada, intake=intake)  # already off: no change
    admin.intake_address_reactivate(actor=ada, intake=intake)
    actions = [(r.action, r.after) for r in audit()[1:]]
    assert actions == [
        ("intake_address.deactivated", {"active": False}),
        ("intake_address.reactivated", {"active": True}),
    ]


def test_the_policy_for_unknown_senders_is_recorded(people, audit):
    admin.mail_policy_set(
        actor=people.actor(people.ada),
        unknown_senders="domains",
        allowed_domains=["acme.test", "partner.test"],
    )
    [record] = audit()
    assert record.action == "mail_policy.changed"
    assert record.before == {
        "unknown_senders": "Accept them as external contacts",
        "allowed_domains": [],
    }
    assert record.after == {
        "unknown_senders": "Accept only senders from the listed domains",
        "allowed_domains": ["acme.test", "partner.test"],
    }


def test_a_refused_change_writes_no_record(people, audit):
    ada = people.actor(people.ada)
    with pytest.raises(InvalidInput):
        admin.intake_address_create(actor=ada, address="not an address")
    with pytest.raises(InvalidInput):
        admin.intake_address_create(actor=ada, address="help@acme.test", imap_enabled=True)
    with pytest.raises(NotAllowed):
        admin.mail_policy_set(
            actor=people.actor(people.max), unknown_senders="refuse", allowed_domains=[]
        )
    assert audit() == []


def test_charlies_tenant_gets_none_of_acmes_records(people, audit):
    admin.intake_address_create(actor=people.actor(people.ada), address="help@acme.test")
    assert len(audit()) == 1
    assert audit(people.globex) == []
