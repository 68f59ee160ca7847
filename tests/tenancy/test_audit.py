"""The audit log's foundation: one record per change with before and after in words, a log
PostgreSQL keeps append-only, and the retention job, the one audited way records go."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from tenancy import audit
from tenancy.models import AuditRecord

pytestmark = pytest.mark.django_db


def _record(people, **extra):
    return audit.audit_record(
        actor=people.actor(people.ada),
        action="member.role_changed",
        target_label="Alice Agent",
        before={"role": "Agent", "scopes": ["read"]},
        after={"role": "Manager", "scopes": []},
        **extra,
    )


def test_a_record_says_who_did_what_to_what_before_and_after_in_words(people):
    record = _record(people)
    assert (record.tenant, record.actor_name, record.actor_user_id) == (
        people.acme,
        people.ada.display_name,
        people.ada.pk,
    )
    assert record.target_label == "Alice Agent"
    assert audit.changes_in_words(record) == ["Role: Agent → Manager", "Scopes: read → —"]


def test_someone_not_signed_in_is_recorded_in_the_tenant_given(people):
    record = audit.audit_record(
        actor=None, tenant=people.acme, action="signin.failed", target_label="x@acme.test"
    )
    assert (record.actor_kind, record.actor_user_id) == ("anonymous", None)
    with pytest.raises(ValueError):
        audit.audit_record(actor=None, action="signin.failed")


@pytest.mark.postgres
@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_change_or_delete_a_record(people, change):
    record = _record(people)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        rows = AuditRecord.objects.filter(pk=record.pk)
        rows.update(action="nothing") if change == "update" else rows.delete()
    assert AuditRecord.objects.get(pk=record.pk).action == "member.role_changed"


@pytest.mark.postgres
def test_retention_removes_only_old_records_of_the_tenant_and_records_itself(people):
    now = timezone.now()
    long_ago = now - timedelta(days=800)
    old = AuditRecord.objects.create(
        tenant=people.acme, at=long_ago, actor_kind="member", actor_name="Ada", action="key.made"
    )
    kept = _record(people)
    theirs = AuditRecord.objects.create(
        tenant=people.globex, at=long_ago, actor_kind="member", actor_name="C", action="key.made"
    )
    assert audit.audit_prune(tenant=people.acme, now=now) == 1
    left = set(AuditRecord.objects.for_tenant(people.acme).values_list("action", flat=True))
    assert left == {"member.role_changed", "audit.pruned"}
    assert not AuditRecord.objects.filter(pk=old.pk).exists()
    assert AuditRecord.objects.filter(pk=kept.pk).exists()
    assert AuditRecord.objects.filter(pk=theirs.pk).exists()  # Globex keeps its own
    pruned = AuditRecord.objects.for_tenant(people.acme).get(action="audit.pruned")
    assert pruned.after["records_removed"] == 1 and pruned.actor_kind == "system"
    assert audit.audit_prune(tenant=people.acme, now=now) == 0  # nothing more, nothing recorded


def test_every_action_the_desk_records_reads_in_words():
    """An action written in a module that records changes has its words (else the page would
    show a code name): every "noun.verb" literal of the log's nouns there is listed."""
    root = Path(__file__).resolve().parents[2]
    nouns = {action.split(".")[0] for action in audit.ACTIONS}
    written: set[str] = set()
    for path in root.glob("*/**/*.py"):
        if {".venv", "tests", "migrations"} & set(path.parts):
            continue
        text = path.read_text()
        if "audit_record" in text or "audit_change" in text or "_audit_member" in text:
            literals = re.findall(r'"([a-z_]+)\.([a-z_]+)"', text)
            written |= {f"{noun}.{verb}" for noun, verb in literals if noun in nouns}
    assert {"member.role_changed", "matrix.changed", "webhook.secret_rotated"} <= written
    assert written - set(audit.ACTIONS) == set()
    assert audit.action_in_words("thing.was_made") == "thing was made"
