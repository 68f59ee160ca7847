"""--adopt-source-matrix: the tenant takes the priority scale and matrix the file shows.

Every row says which priority its impact and urgency gave in the source tool. Those pairs are
the source's matrix; a cell the file never shows takes the format's base value (ServiceNow's
documented lookup rules), and a file that gives one cell two priorities, or one rank two
names, is refused: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType

from imports.formats.servicenow import Priority
from imports.services.reading import FileRefused
from incidents.models import PriorityLevel, PriorityMatrixCell
from incidents.services.priority import LEVELS, matrix_set
from tenancy.actors import Actor
from tenancy.errors import InvalidInput
from tenancy.models import Tenant


@dataclass
class Proposal:
    scale: list[tuple[str, str]]  # (slug, label), most urgent first
    matrix: dict[str, dict[str, str]]  # impact -> urgency -> slug
    filled: list[dict] = field(default_factory=list)  # cells taken from the base matrix


def _describe(priority: Priority) -> str:
    return f"{priority.rank} - {priority.label}"


def _cells(pairs: dict[tuple, list[int]]) -> dict[tuple[str, str], Priority]:
    """One priority per (impact, urgency), or a refusal naming every contradiction."""
    seen: dict[tuple[str, str], dict] = {}
    for (impact, urgency, priority), (rows, line) in pairs.items():
        seen.setdefault((impact, urgency), {})[priority] = (rows, line)
    clashes = []
    for (impact, urgency), found in sorted(seen.items()):
        if len(found) > 1:
            said = "; ".join(
                f"{_describe(p)} in {rows} row(s) from line {line}"
                for p, (rows, line) in sorted(found.items(), key=lambda kv: kv[1][1])
            )
            clashes.append(f"{impact} impact x {urgency} urgency gives {said}")
    if clashes:
        raise FileRefused(
            "The file contradicts itself, so its priority matrix cannot be adopted: "
            + ". ".join(clashes)
            + ". Nothing was imported; import without --adopt-source-matrix to keep the "
            "desk's matrix."
        )
    return {cell: next(iter(found)) for cell, found in seen.items()}


def _scale(priorities: set[Priority]) -> dict[int, Priority]:
    by_rank: dict[int, Priority] = {}
    for priority in sorted(priorities, key=lambda p: (p.rank, p.label)):
        other = by_rank.setdefault(priority.rank, priority)
        if other.slug != priority.slug:
            raise FileRefused(
                f"The file gives priority {priority.rank} two names ({other.label} and "
                f"{priority.label}), so its scale cannot be adopted. Nothing was imported."
            )
    slugs = [p.slug for p in by_rank.values()]
    twice = sorted({s for s in slugs if slugs.count(s) > 1})
    if twice:
        raise FileRefused(
            f"The file names two priority ranks {', '.join(twice)}, so its scale cannot be "
            "adopted. Nothing was imported."
        )
    return by_rank


def propose(fmt: ModuleType, pairs: dict[tuple, list[int]]) -> Proposal:
    cells = _cells(pairs)
    by_rank = _scale(set(cells.values()))
    filled = []
    for impact in LEVELS:
        for urgency in LEVELS:
            if (impact, urgency) in cells:
                continue
            rank, label = fmt.BASE_MATRIX[(impact, urgency)]
            # The file's own name for that rank wins over the base table's.
            priority = by_rank.get(rank) or fmt.Priority(rank, label)
            by_rank.setdefault(rank, priority)
            cells[(impact, urgency)] = priority
            filled.append({"impact": impact, "urgency": urgency, "priority": _describe(priority)})
    _scale(set(by_rank.values()))  # a filled level must not clash with the file's names
    scale = [(p.slug, p.label) for _, p in sorted(by_rank.items())]
    matrix = {i: {u: cells[(i, u)].slug for u in LEVELS} for i in LEVELS}
    return Proposal(scale=scale, matrix=matrix, filled=filled)


def _current(tenant: Tenant) -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    cells = PriorityMatrixCell.objects.for_tenant(tenant).select_related("level")
    matrix: dict[str, dict[str, str]] = {}
    for cell in cells:
        matrix.setdefault(cell.impact, {})[cell.urgency] = cell.level.slug
    scale = list(
        PriorityLevel.objects.for_tenant(tenant)
        .filter(is_active=True)
        .order_by("rank")
        .values_list("slug", "label")
    )
    return scale, matrix


def adopt(*, tenant: Tenant, proposal: Proposal) -> bool:
    """Set the tenant's scale and matrix to the proposal; False when they already are."""
    if _current(tenant) == (proposal.scale, proposal.matrix):
        return False
    try:
        matrix_set(
            actor=Actor.system(tenant, "Import"), scale=proposal.scale, matrix=proposal.matrix
        )
    except InvalidInput as exc:
        raise FileRefused(
            f"The file's priority scale cannot be adopted: {exc.message} Nothing was imported."
        ) from None
    return True
