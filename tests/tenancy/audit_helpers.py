"""Audit records made directly with audit_record, as the services will (issue 17), so the
reading side is tested without depending on each service's wiring."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from types import SimpleNamespace

import time_machine

from tenancy.actors import Actor
from tenancy.audit import audit_record
from tenancy.models import AuditRecord, Membership

# A moment in the afternoon, UTC: the next day already in Auckland.
AFTERNOON = datetime.fromisoformat("2026-12-06T14:00:00+00:00")


def role_changed(people, *, who=None, at: datetime | None = None, **extra) -> AuditRecord:
    """Ada (or `who`) made Alice a manager."""
    membership = Membership.objects.get(tenant=people.acme, user=people.alice)
    fields = {
        "actor": people.actor(who or people.ada),
        "action": "member.role_changed",
        "target": membership,
        "target_label": "Alice Agent",
        "before": {"role": "Agent"},
        "after": {"role": "Manager"},
        "address": "203.0.113.7",
        **extra,
    }
    if at is None:
        return audit_record(**fields)
    with time_machine.travel(at, tick=False):
        return audit_record(**fields)


def key_created(people, *, key_name: str = "Zabbix", label: str = "Chat bot") -> AuditRecord:
    """An integration (an admin-scoped key) made another key."""
    key = SimpleNamespace(name=key_name)  # all a record keeps of the key is its name
    return audit_record(
        actor=Actor.integration(people.acme, key, "admin"),
        action="apikey.created",
        target_label=label,
        after={"name": label, "scopes": ["read"]},
    )


def many(tenant, count: int, *, action: str = "webhook.changed", at=None) -> None:
    """`count` records at one instant (ties on `at` are the hard case of keyset paging)."""
    fields = {} if at is None else {"at": at}
    AuditRecord.objects.bulk_create(
        AuditRecord(
            tenant=tenant,
            actor_kind="member",
            actor_name="Ada Admin",
            action=action,
            target_type="webhookendpoint",
            target_id=str(n),
            target_label=f"Hook {n:03d}",
            before={"url": "https://old.example"},
            after={"url": "https://new.example"},
            **fields,
        )
        for n in range(count)
    )


ROW = re.compile(r'<tr data-action="([^"]*)">(.*?)</tr>', re.S)
TAG = re.compile(r"<[^>]+>")


def page_rows(body: str) -> list[tuple[str, str]]:
    """The audit page's rows: each record's action and its text as a reader sees it."""
    return [
        (action, " ".join(unescape(TAG.sub(" ", cells)).split()))
        for action, cells in ROW.findall(body)
    ]
