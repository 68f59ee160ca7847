"""Priority is derived from impact and urgency through the tenant's matrix, never typed in."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, F
from django.utils import timezone

from incidents.hooks import incidents_retargeted
from incidents.models import (
    EventKind,
    Incident,
    IncidentEvent,
    Level,
    PriorityLevel,
    PriorityMatrixCell,
)
from incidents.models.incident import OPEN_STATES
from incidents.rules import check_admin
from incidents.services.audited import audit_change
from incidents.services.common import event_row
from incidents.services.config import SLUG_RE, field_max_length
from tenancy.actors import Actor
from tenancy.config_stamp import config_write
from tenancy.errors import InvalidInput
from tenancy.models import Tenant

LEVELS = [c.value for c in Level]
MAX_LEVELS = 5
SLUG_MAX = field_max_length(PriorityLevel, "slug")
LABEL_MAX = field_max_length(PriorityLevel, "label")

Scale = list[tuple[str, str]]  # (slug, label), most urgent first
Matrix = dict[str, dict[str, str]]  # impact -> urgency -> level slug


def check_level(value: str, field: str) -> str:
    if value not in LEVELS:
        raise InvalidInput(
            f"{field.capitalize()} must be one of high, medium or low (got {value!r}).",
            field=field,
        )
    return value


def priority_derive(*, tenant: Tenant, impact: str, urgency: str) -> PriorityLevel:
    check_level(impact, "impact")
    check_level(urgency, "urgency")
    cell = (
        PriorityMatrixCell.objects.for_tenant(tenant)
        .select_related("level")
        .get(impact=impact, urgency=urgency)
    )
    return cell.level


def matrix_for(tenant: Tenant) -> dict[str, dict[str, PriorityLevel]]:
    cells = PriorityMatrixCell.objects.for_tenant(tenant).select_related("level")
    matrix: dict[str, dict[str, PriorityLevel]] = {}
    for cell in cells:
        matrix.setdefault(cell.impact, {})[cell.urgency] = cell.level
    return matrix


def _check_scale(scale: Scale) -> None:
    if not 1 <= len(scale) <= MAX_LEVELS:
        raise InvalidInput(
            f"A priority scale has one to {MAX_LEVELS} levels (this one has {len(scale)}).",
            field="scale",
        )
    if any(not slug or not label for slug, label in scale):
        raise InvalidInput("Every priority level needs a slug and a label.", field="scale")
    bad = [slug for slug, _ in scale if not SLUG_RE.match(slug) or len(slug) > SLUG_MAX]
    if bad:
        raise InvalidInput(
            f"A level's slug is lowercase letters, digits and hyphens, up to {SLUG_MAX} "
            f"characters: {', '.join(repr(s) for s in bad)} is not.",
            field="scale",
        )
    if any(len(label) > LABEL_MAX for _, label in scale):
        raise InvalidInput(f"A level's label is up to {LABEL_MAX} characters.", field="scale")
    twice = [slug for slug, n in Counter(slug for slug, _ in scale).items() if n > 1]
    if twice:
        raise InvalidInput(
            f"Each priority level needs its own slug: {', '.join(twice)} is used twice.",
            field="scale",
        )


def _check_matrix(matrix: Matrix, slugs: set[str]) -> None:
    def cell(impact: str, urgency: str) -> str:
        row = matrix.get(impact)
        return row.get(urgency) or "" if isinstance(row, dict) else ""

    holes = [f"{i} impact x {u} urgency" for i in LEVELS for u in LEVELS if not cell(i, u)]
    if holes:
        raise InvalidInput(
            "The matrix has a hole: choose a priority for " + ", ".join(holes) + ".",
            field="matrix",
        )
    unknown = {cell(i, u) for i in LEVELS for u in LEVELS} - slugs
    if unknown:
        raise InvalidInput(
            f"The matrix names levels not on the scale: {', '.join(sorted(unknown))}.",
            field="matrix",
        )


def matrix_check(*, scale: Scale, matrix: Matrix) -> None:
    """Raise InvalidInput unless scale and matrix could be saved (used to preview a change)."""
    _check_scale(scale)
    _check_matrix(matrix, {slug for slug, _ in scale})


def matrix_changes_count(*, tenant: Tenant, scale: Scale, matrix: Matrix) -> int:
    """How many open incidents would change priority (level or rank) if this were saved."""
    matrix_check(scale=scale, matrix=matrix)
    ranks = {slug: rank for rank, (slug, _) in enumerate(scale, start=1)}
    groups = (
        Incident.objects.for_tenant(tenant)
        .filter(state__in=OPEN_STATES)
        .values("impact", "urgency", "priority__slug", "priority_rank")
        .annotate(n=Count("id"))
        .order_by()
    )
    changing = 0
    for row in groups:
        target = matrix[row["impact"]][row["urgency"]]
        if (target, ranks[target]) != (row["priority__slug"], row["priority_rank"]):
            changing += row["n"]
    return changing


@config_write  # queued behind the reports in flight and any other admin's save
def matrix_set(*, actor: Actor, scale: Scale, matrix: Matrix) -> int:
    """Replace the tenant's scale (ordered, most urgent first) and matrix.

    Open incidents get their priority re-derived, each with an event; returns how many changed.
    """
    check_admin(actor, "change the priority matrix")
    matrix_check(scale=scale, matrix=matrix)
    tenant = actor.tenant
    before = _matrix_words(tenant)
    levels = _save_scale(tenant, scale)
    for impact in LEVELS:
        for urgency in LEVELS:
            PriorityMatrixCell.objects.update_or_create(
                tenant=tenant,
                impact=impact,
                urgency=urgency,
                defaults={"level": levels[matrix[impact][urgency]]},
            )
    after: dict[str, Any] = {"scale": [label for _, label in scale]}
    after.update((_cell_words(i, u), levels[matrix[i][u]].label) for i in LEVELS for u in LEVELS)
    moved = _rederive_open(actor, levels, matrix)
    if moved:
        after["open_incidents_reprioritised"] = moved
    audit_change(
        actor=actor,
        action="matrix.changed",
        target_label="priority matrix",
        before=before,
        after=after,
    )
    return moved


def _cell_words(impact: str, urgency: str) -> str:
    return f"{Level(impact).label} impact × {Level(urgency).label} urgency"


def _matrix_words(tenant: Tenant) -> dict[str, Any]:
    """The scale and each cell as labels, as the audit record shows them."""
    scale = PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank")
    words: dict[str, Any] = {"scale": list(scale.values_list("label", flat=True))}
    for impact, row in matrix_for(tenant).items():
        for urgency, level in row.items():
            words[_cell_words(impact, urgency)] = level.label
    return words


def _save_scale(tenant: Tenant, scale: Scale) -> dict[str, PriorityLevel]:
    existing = {lvl.slug: lvl for lvl in PriorityLevel.objects.for_tenant(tenant)}
    # Ranks are unique among active levels: retire them all, then bring back the new scale.
    # A level left off stays inactive for the closed incidents that still name it.
    PriorityLevel.objects.for_tenant(tenant).update(is_active=False)
    levels: dict[str, PriorityLevel] = {}
    for rank, (slug, label) in enumerate(scale, start=1):
        level = existing.get(slug) or PriorityLevel(tenant=tenant, slug=slug)
        level.label, level.rank, level.is_active = label, rank, True
        level.save()
        levels[slug] = level
    return levels


def _rederive_open(actor: Actor, levels: dict[str, PriorityLevel], matrix: Matrix) -> int:
    """Move every open incident to its new level: one UPDATE per matrix cell, not per incident.

    The rows are locked first, so the versions read here are the ones the UPDATE bumps and each
    event carries the incident's version after the change, as a service's save would.
    """
    tenant = actor.tenant
    open_incidents = Incident.objects.for_tenant(tenant).filter(state__in=OPEN_STATES)
    rows = list(
        open_incidents.select_for_update(of=("self",)).values_list(
            "pk", "impact", "urgency", "priority__slug", "priority_rank", "version"
        )
    )
    now = timezone.now()
    events: list[IncidentEvent] = []
    moved_cells: set[tuple[str, str]] = set()
    for pk, impact, urgency, old_slug, old_rank, version in rows:
        level = levels[matrix[impact][urgency]]
        if (old_slug, old_rank) == (level.slug, level.rank):
            continue
        moved_cells.add((impact, urgency))
        changes: dict[str, Any] = {"priority": [old_slug, level.slug]}
        if old_rank != level.rank:
            changes["priority_rank"] = [old_rank, level.rank]
        events.append(
            event_row(
                actor=actor,
                incident_id=pk,
                version=version + 1,  # as the UPDATE below makes it
                at=now,
                kind=EventKind.FIELD_CHANGED,
                reason="The tenant's priority matrix changed.",
                data={"changes": changes},
            )
        )
    for impact, urgency in moved_cells:
        level = levels[matrix[impact][urgency]]
        open_incidents.filter(impact=impact, urgency=urgency).exclude(
            priority=level, priority_rank=level.rank
        ).update(priority=level, priority_rank=level.rank, version=F("version") + 1, updated_at=now)
    IncidentEvent.objects.bulk_create(events, batch_size=500)
    incidents_retargeted.send(actor=actor, incident_ids=[e.incident_id for e in events])
    return len(events)
