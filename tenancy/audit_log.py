"""Reading the audit log (issue 17): the filters an admin sets on Settings → Audit log and on
GET /api/v1/audit/, the records they select (newest first, keyset pages on the tenant-first
index audit_latest), each record in words, and the CSV export.

The page and the API share the filter form, so a filter means the same in both and a bad one
gets the same message."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from tenancy.audit import RETENTION_DAYS, action_in_words, changes_in_words
from tenancy.csvcells import csv_safe
from tenancy.days import local_midnight
from tenancy.errors import InvalidInput
from tenancy.forms import PlainLabels
from tenancy.inputs import DayField, whole_number
from tenancy.models import AuditRecord, Membership, Tenant

PER_PAGE = 50
ACTION_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")  # "signout" has no dot
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CSV_BATCH = 2000  # rows fetched at a time while a large export streams


# --- Filters ----------------------------------------------------------------------------------


def actions_present(tenant: Tenant) -> list[str]:
    """The actions the tenant's log holds, for the filter's select. A loose index scan (one
    index probe per distinct action on audit_action), so a log of millions of records costs as
    many probes as it has kinds of action, not a read of every record. (SQLite, for
    development, reads them plainly: its compound selects take no parenthesised LIMIT.)"""
    if connection.vendor != "postgresql":
        records = AuditRecord.objects.for_tenant(tenant).order_by("action")
        return list(records.values_list("action", flat=True).distinct())
    table = AuditRecord._meta.db_table
    sql = f"""
        WITH RECURSIVE found(action) AS (
            (SELECT action FROM {table} WHERE tenant_id = %s ORDER BY action LIMIT 1)
            UNION ALL
            SELECT (SELECT action FROM {table} WHERE tenant_id = %s AND action > found.action
                    ORDER BY action LIMIT 1)
            FROM found WHERE found.action IS NOT NULL
        )
        SELECT action FROM found WHERE action IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tenant.pk, tenant.pk])
        return [row[0] for row in cursor.fetchall()]


class AuditFilterForm(PlainLabels, forms.Form):
    actor = forms.CharField(
        label="Who", required=False, max_length=200, help_text="A name, email or API key name."
    )
    action = forms.CharField(label="What", required=False, max_length=60)
    target = forms.CharField(
        label="Changed thing", required=False, max_length=200, help_text="Its name or kind."
    )
    date_from = DayField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    date_to = DayField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args: Any, actions: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if actions is not None:  # the page offers a select; the API takes the name
            asked = str(self.data.get("action", "")) if self.is_bound else ""
            if asked and asked not in actions:  # a link from before its records were pruned
                actions = [*actions, asked]
            choices = [("", "Any action"), *((a, action_in_words(a)) for a in actions)]
            self.fields["action"].widget = forms.Select(choices=choices)

    def clean_action(self) -> str:
        action = self.cleaned_data["action"]
        if action and not ACTION_NAME.match(action):
            raise forms.ValidationError(
                f"“{action}” is not an action name; they read like member.role_changed."
            )
        return action

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            # Neither day applies: either could be the one mistyped.
            self.add_error("date_to", "The last day is before the first day; swap them.")
            data.pop("date_from", None)
        return data


def audit_records(*, tenant: Tenant, filters: dict[str, Any]) -> QuerySet[AuditRecord]:
    """The tenant's records the filters select, newest first. Days are the tenant's days (its
    time zone), both ends included."""
    records = AuditRecord.objects.for_tenant(tenant)
    if who := filters.get("actor"):
        emails = Membership.objects.for_tenant(tenant).filter(user__email__icontains=who)
        records = records.filter(
            Q(actor_name__icontains=who) | Q(actor_user_id__in=emails.values("user_id"))
        )
    if action := filters.get("action"):
        records = records.filter(action=action)
    if target := filters.get("target"):
        records = records.filter(Q(target_label__icontains=target) | Q(target_type__iexact=target))
    zone = ZoneInfo(tenant.time_zone)
    if first := filters.get("date_from"):
        records = records.filter(at__gte=local_midnight(first, zone))
    if last := filters.get("date_to"):
        records = records.filter(at__lt=local_midnight(last + timedelta(days=1), zone))
    return records.order_by("-at", "-id")


# --- Keyset pages (the settings page; the API uses DRF's cursor pagination) ------------------


def cursor_after(record: AuditRecord) -> str:
    """Where the next page starts: the record's time (microseconds) and id, plain digits."""
    micros = (record.at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{record.pk}"


def records_after(records: QuerySet[AuditRecord], cursor: str) -> QuerySet[AuditRecord]:
    """The records older than the cursor's, in the order (at, id) descending."""
    micros, _, pk = cursor.partition(".")
    at_number, id_number = whole_number(micros), whole_number(pk)
    if at_number is None or id_number is None:
        raise InvalidInput("That page link is broken; here are the newest records.")
    try:
        at = EPOCH + timedelta(microseconds=at_number)
    except OverflowError:
        raise InvalidInput("That page link is broken; here are the newest records.") from None
    return records.filter(Q(at__lt=at) | Q(at=at, pk__lt=id_number))


# --- In words ---------------------------------------------------------------------------------


def actor_in_words(record: AuditRecord) -> str:
    if record.actor_kind == "integration":
        return f"API key “{record.actor_name}”"
    if record.actor_kind == "system":
        return f"The desk ({record.actor_name})"
    return record.actor_name


def target_in_words(record: AuditRecord) -> str:
    kind = record.target_type.replace("_", " ")
    if record.target_label and kind:
        return f"{record.target_label} ({kind})"
    return record.target_label or kind


@dataclass(frozen=True)
class AuditRow:
    record: AuditRecord
    who: str
    what: str
    target: str
    changes: list[str]


def rows_in_words(records: list[AuditRecord]) -> list[AuditRow]:
    return [
        AuditRow(
            record=r,
            who=actor_in_words(r),
            what=action_in_words(r.action),
            target=target_in_words(r),
            changes=changes_in_words(r),
        )
        for r in records
    ]


# --- CSV --------------------------------------------------------------------------------------

CSV_HEADER = [
    "When",
    "Who",
    "What",
    "Action",
    "Target type",
    "Target id",
    "Target",
    "Changes",
    "Before (JSON)",
    "After (JSON)",
    "Address",
]


class _Line:
    """A file-like object that hands back what csv.writer writes, one line at a time."""

    def write(self, text: str) -> str:
        return text


def csv_lines(records: QuerySet[AuditRecord], *, tenant: Tenant) -> Iterator[str]:
    """Every selected record as a CSV line, fetched in batches while the response streams.
    Cells that a spreadsheet would read as a formula are written as text (tenancy/csvcells.py)."""
    writer = csv.writer(_Line())
    zone = ZoneInfo(tenant.time_zone)
    yield writer.writerow(CSV_HEADER)
    for r in records.iterator(chunk_size=CSV_BATCH):
        cells = [
            timezone.localtime(r.at, zone).isoformat(),
            actor_in_words(r),
            action_in_words(r.action),
            r.action,
            r.target_type,
            r.target_id,
            r.target_label,
            "\n".join(changes_in_words(r)),
            json.dumps(r.before, ensure_ascii=False, sort_keys=True),
            json.dumps(r.after, ensure_ascii=False, sort_keys=True),
            r.address or "",
        ]
        yield writer.writerow([csv_safe(c) for c in cells])


# --- The retention setting (Settings → General) ---------------------------------------------


class AuditRetentionForm(PlainLabels, forms.Form):
    # Bounds are the service's (tenant_audit_retention_set), so its message is the one shown.
    audit_retention_days = forms.IntegerField(
        label="Keep audit log records for (days)",
        help_text=f"{RETENTION_DAYS[0]} to {RETENTION_DAYS[1]} days. Older records are removed "
        "daily, and the removal is itself recorded.",
    )
