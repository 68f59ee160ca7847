"""Writing one batch of source incidents, inside the caller's transaction.

New incidents get their desk numbers as one block of the tenant's counter and are written
with their events in bulk. An incident imported before (same tenant and source number) gets
only the rows it lacks (by each row's identity, `source_key`), appended after its history;
one that lacks none is not touched, which is what makes a second import change nothing.

Writing `state` without the FSM is confined to this module: a new incident is constructed
with its final state (django-fsm's protected field allows the first assignment), and an
appended one is written with a queryset UPDATE guarded by its version, so the model's
protected descriptor and transition methods are bypassed here and nowhere else.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from imports.formats.servicenow import key_position
from imports.services.reading import Skip
from imports.services.replay import Context, Draft, Replay, describe
from incidents.errors import StaleIncident
from incidents.models import Incident, IncidentEvent
from tenancy.services import counter_next


@dataclass
class BatchOutcome:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0
    skipped: list[Skip] = field(default_factory=list)
    disagreements: list[dict] = field(default_factory=list)
    # (incident, replay) of every incident written, for the SLA clocks
    written: list[tuple[Incident, Replay]] = field(default_factory=list)


def _dedupe(rows: list, out: BatchOutcome) -> list:
    kept: list = []
    for row in rows:
        if kept and kept[-1].key == row.key:
            reason = (
                f"repeats the update of line {kept[-1].line} "
                "(same sys_mod_count and sys_updated_at)"
            )
            out.skipped.append(Skip(row.line, row.number, reason))
        else:
            kept.append(row)
    return kept


def _check_priorities(ctx: Context, rows: list, out: BatchOutcome) -> None:
    """Does the tenant's matrix give what the source gave, row by row? One entry per incident."""
    for row in rows:
        derived = ctx.levels[(row.impact, row.urgency)]
        if derived.slug != row.priority.slug:
            out.disagreements.append(
                {
                    "number": row.number,
                    "line": row.line,
                    "impact": row.impact,
                    "urgency": row.urgency,
                    "source": str(row.priority),
                    "derived": derived.label,
                }
            )
            return


def _replay_new(ctx: Context, rows: list) -> Replay:
    replay = Replay(ctx, rows[0].number, Draft())
    replay.open(rows[0])
    for row in rows:
        replay.apply(row)
    replay.finish(rows[-1])
    return replay


def _replay_more(
    ctx: Context, incident: Incident, rows: list, keys: set[str], out: BatchOutcome
) -> Replay | None:
    """The rows this incident lacks, appended after its history; None when it lacks none."""
    fresh = [row for row in rows if row.key not in keys]
    positions = [p for p in map(key_position, keys) if p is not None]
    last = max(positions, default=None)
    if last is not None:
        late = [row for row in fresh if row.position < last]
        for row in late:
            reason = (
                f"comes before the history already imported for {row.number}, so it cannot be "
                "added to it"
            )
            out.skipped.append(Skip(row.line, row.number, reason))
        fresh = [row for row in fresh if row.position >= last]
    if not fresh:
        return None
    replay = Replay(ctx, incident.source_number, Draft.of(incident))
    for row in fresh:
        replay.apply(row)
    replay.finish(fresh[-1])
    return replay


def _create(ctx: Context, new: list[tuple[Replay, Any]], out: BatchOutcome) -> None:
    if not new:
        return
    last = counter_next(tenant=ctx.tenant, name="incident", count=len(new))
    incidents = []
    for offset, (replay, first) in enumerate(new):
        title, description = describe(ctx.fmt, first)
        incidents.append(
            Incident(
                tenant_id=ctx.tenant_id,
                number=last - len(new) + 1 + offset,
                title=title,
                description=description,
                contact_name=first.caller,
                source_number=replay.number,
                updated_at=replay.draft.updated_at or timezone.now(),
                **replay.draft.values(),
            )
        )
    Incident.objects.bulk_create(incidents)
    for incident, (replay, _) in zip(incidents, new, strict=True):
        for event in replay.events:
            event.incident = incident
        out.written.append((incident, replay))
        out.events += len(replay.events)
    IncidentEvent.objects.bulk_create(
        [e for _, (replay, _) in zip(incidents, new, strict=True) for e in replay.events],
        batch_size=1000,
    )
    out.created += len(new)


def _append(ctx: Context, appended: list[tuple[Incident, Replay]], out: BatchOutcome) -> None:
    now = timezone.now()
    for incident, replay in appended:
        values = replay.draft.values()
        done = (
            Incident.objects.for_tenant(ctx.tenant_id)
            .filter(pk=incident.pk, version=incident.version)
            .update(**values, updated_at=now)
        )
        if not done:  # the row is locked, so only a bug gets here; never overwrite blindly
            raise StaleIncident(f"{incident.reference} changed while its history was imported.")
        for event in replay.events:
            event.incident = incident
        out.events += len(replay.events)
    IncidentEvent.objects.bulk_create(
        [e for _, replay in appended for e in replay.events], batch_size=1000
    )
    # Read back as updated, in one query, with what the clock writer reads (not per incident).
    fresh = Incident.objects.for_tenant(ctx.tenant_id).select_related("priority")
    by_pk = fresh.in_bulk([incident.pk for incident, _ in appended])
    out.written.extend((by_pk[incident.pk], replay) for incident, replay in appended)
    out.updated += len(appended)


def write_batch(ctx: Context, groups: list[list]) -> BatchOutcome:
    """Import these incidents (each a list of its rows in history order)."""
    out = BatchOutcome()
    numbers = [rows[0].number for rows in groups]
    existing = {
        incident.source_number: incident
        for incident in Incident.objects.for_tenant(ctx.tenant_id)
        .filter(source_number__in=numbers)
        .select_related("priority", "category", "group", "assignee", "resolution_code")
        .select_for_update(of=("self",))
    }
    keys: dict[int, set[str]] = defaultdict(set)
    imported = IncidentEvent.objects.for_tenant(ctx.tenant_id).filter(
        incident_id__in=[i.pk for i in existing.values()]
    )
    pairs = imported.exclude(source_key="").values_list("incident_id", "source_key")
    for incident_id, key in pairs:
        keys[incident_id].add(key)
    new, appended = [], []
    for rows in groups:
        out.rows += len(rows)
        rows = _dedupe(rows, out)
        _check_priorities(ctx, rows, out)
        incident = existing.get(rows[0].number)
        if incident is None:
            new.append((_replay_new(ctx, rows), rows[0]))
            continue
        replay = _replay_more(ctx, incident, rows, keys[incident.pk], out)
        if replay is None:
            out.unchanged += 1
        else:
            appended.append((incident, replay))
    _create(ctx, new, out)
    _append(ctx, appended, out)
    return out
