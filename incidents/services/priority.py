"""Priority is derived from impact and urgency through the tenant's matrix, never typed in."""

from __future__ import annotations

from django.db import transaction

from escalation.services import clocks as sla_clocks

from incidents.errors import InvalidInput, NotAllowed
from incidents.models import EventKind, Incident, Level, PriorityLevel, PriorityMatrixCell
from incidents.models.incident import OPEN_STATES
from incidents.services.common import record_event
from tenancy.actors import Actor
from tenancy.models import Tenant

LEVELS = [c.value for c in Level]
MAX_LEVELS = 5


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


def _check_scale(scale: list[tuple[str, str]]) -> None:
    if not 1 <= len(scale) <= MAX_LEVELS:
        raise InvalidInput(f"A priority scale has one to {MAX_LEVELS} levels.", field="scale")
    slugs = [slug for slug, _ in scale]
    if len(set(slugs)) != len(slugs):
        raise InvalidInput("Each priority level needs its own name.", field="scale")
    if any(not slug or not label for slug, label in scale):
        raise InvalidInput("Every priority level needs a name and a label.", field="scale")


def _check_matrix(matrix: dict[str, dict[str, str]], slugs: set[str]) -> None:
    holes = [
        f"{i} impact x {u} urgency"
        for i in LEVELS
        for u in LEVELS
        if not matrix.get(i, {}).get(u)
    ]
    if holes:
        raise InvalidInput(
            "The matrix has a hole: choose a priority for " + ", ".join(holes) + ".",
            field="matrix",
        )
    unknown = {matrix[i][u] for i in LEVELS for u in LEVELS} - slugs
    if unknown:
        raise InvalidInput(
            f"The matrix names levels not on the scale: {', '.join(sorted(unknown))}.",
            field="matrix",
        )


@transaction.atomic
def matrix_set(
    *,
    actor: Actor,
    scale: list[tuple[str, str]],
    matrix: dict[str, dict[str, str]],
) -> int:
    """Replace the tenant's scale (ordered, most urgent first) and matrix.

    Open incidents get their priority re-derived, each with an event; returns how many changed.
    """
    if actor.role not in ("admin", "system"):
        raise NotAllowed("Only a tenant admin can change the priority matrix.")
    _check_scale(scale)
    _check_matrix(matrix, {slug for slug, _ in scale})
    tenant = actor.tenant
    existing = {lvl.slug: lvl for lvl in PriorityLevel.objects.for_tenant(tenant)}
    # Ranks are unique among active levels: retire them all, then bring back the new scale.
    PriorityLevel.objects.for_tenant(tenant).update(is_active=False)
    levels: dict[str, PriorityLevel] = {}
    for rank, (slug, label) in enumerate(scale, start=1):
        level = existing.get(slug) or PriorityLevel(tenant=tenant, slug=slug)
        level.label, level.rank, level.is_active = label, rank, True
        level.save()
        levels[slug] = level
    for impact in LEVELS:
        for urgency in LEVELS:
            PriorityMatrixCell.objects.update_or_create(
                tenant=tenant,
                impact=impact,
                urgency=urgency,
                defaults={"level": levels[matrix[impact][urgency]]},
            )
    changed = _rederive_open(actor, tenant, levels, matrix)
    return changed


def _rederive_open(actor, tenant, levels, matrix) -> int:
    changed = 0
    open_incidents = Incident.objects.for_tenant(tenant).filter(state__in=OPEN_STATES)
    for incident in open_incidents.select_for_update(of=("self",)).select_related("priority"):
        level = levels[matrix[incident.impact][incident.urgency]]
        old = incident.priority
        if old.pk == level.pk and incident.priority_rank == level.rank:
            continue
        incident.priority, incident.priority_rank = level, level.rank
        incident.save(update_fields=["priority", "priority_rank"])
        record_event(
            incident,
            actor=actor,
            kind=EventKind.FIELD_CHANGED,
            reason="The tenant's priority matrix changed.",
            data={"changes": {"priority": [old.slug, level.slug]}},
        )
        sla_clocks.clocks_retarget(incident=incident, actor=actor, reason="Priority matrix changed")
        changed += 1
    return changed
