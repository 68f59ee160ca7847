"""What a new tenant starts with: the default priority scale and matrix, resolution codes."""

from django.db import transaction

from incidents.models import Level, PriorityLevel, PriorityMatrixCell, ResolutionCode
from tenancy.models import Tenant

H, M, L = Level.HIGH, Level.MEDIUM, Level.LOW

DEFAULT_SCALE = [("high", "High", 1), ("medium", "Medium", 2), ("low", "Low", 3)]
ITIL_SCALE = [
    ("critical", "Critical", 1),
    ("high", "High", 2),
    ("moderate", "Moderate", 3),
    ("low", "Low", 4),
    ("planning", "Planning", 5),
]
# impact -> urgency -> level slug
DEFAULT_MATRIX = {
    H: {H: "high", M: "high", L: "medium"},
    M: {H: "high", M: "medium", L: "low"},
    L: {H: "medium", M: "low", L: "low"},
}
ITIL_MATRIX = {
    H: {H: "critical", M: "high", L: "moderate"},
    M: {H: "high", M: "moderate", L: "low"},
    L: {H: "moderate", M: "low", L: "planning"},
}
PRESETS = {"default": (DEFAULT_SCALE, DEFAULT_MATRIX), "itil": (ITIL_SCALE, ITIL_MATRIX)}

DEFAULT_RESOLUTION_CODES = [
    ("solved-permanently", "Solved (permanently)"),
    ("solved-workaround", "Solved (workaround)"),
    ("not-reproducible", "Not reproducible"),
    ("user-error", "User error or training"),
    ("known-error", "Known error"),
    ("third-party", "Resolved by a third party"),
]


@transaction.atomic
def tenant_defaults_install(*, tenant: Tenant) -> None:
    scale, matrix = PRESETS["default"]
    levels = {
        slug: PriorityLevel.objects.create(tenant=tenant, slug=slug, label=label, rank=rank)
        for slug, label, rank in scale
    }
    PriorityMatrixCell.objects.bulk_create(
        PriorityMatrixCell(tenant=tenant, impact=i, urgency=u, level=levels[slug])
        for i, row in matrix.items()
        for u, slug in row.items()
    )
    ResolutionCode.objects.bulk_create(
        ResolutionCode(tenant=tenant, slug=slug, label=label)
        for slug, label in DEFAULT_RESOLUTION_CODES
    )
