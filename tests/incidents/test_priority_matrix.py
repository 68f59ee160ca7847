"""Priority comes from impact x urgency through the tenant's matrix; admins may replace both
the matrix and the scale (up to five levels)."""

from __future__ import annotations

import pytest

from incidents import services
from incidents.models import Incident, IncidentEvent, PriorityLevel, PriorityMatrixCell
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.build import ITIL_MATRIX, ITIL_SCALE, incident_in, report

# docs/design.md's default matrix, cell by cell: (impact, urgency, level, rank).
DEFAULT_CELLS = [
    ("high", "high", "high", 1),
    ("high", "medium", "high", 1),
    ("high", "low", "medium", 2),
    ("medium", "high", "high", 1),
    ("medium", "medium", "medium", 2),
    ("medium", "low", "low", 3),
    ("low", "high", "medium", 2),
    ("low", "medium", "low", 3),
    ("low", "low", "low", 3),
]

ITIL_CELLS = [
    ("high", "high", "critical", 1),
    ("high", "medium", "high", 2),
    ("high", "low", "moderate", 3),
    ("medium", "high", "high", 2),
    ("medium", "medium", "moderate", 3),
    ("medium", "low", "low", 4),
    ("low", "high", "moderate", 3),
    ("low", "medium", "low", 4),
    ("low", "low", "planning", 5),
]


@pytest.mark.parametrize(("impact", "urgency", "level", "rank"), DEFAULT_CELLS)
def test_a_new_tenant_derives_priority_from_the_default_matrix(
    people, impact, urgency, level, rank
):
    incident = report(people, impact=impact, urgency=urgency)
    stored = Incident.objects.select_related("priority").get(pk=incident.pk)
    assert (stored.priority.slug, stored.priority.rank, stored.priority_rank) == (
        level,
        rank,
        rank,
    )
    reported = IncidentEvent.objects.get(incident=incident, kind="reported")
    assert reported.data == {"impact": impact, "urgency": urgency, "priority": level}


def switch_to_itil(people) -> int:
    return services.matrix_set(actor=people.actor(people.ada), scale=ITIL_SCALE, matrix=ITIL_MATRIX)


@pytest.mark.parametrize(("impact", "urgency", "level", "rank"), ITIL_CELLS)
def test_a_tenant_on_the_itil_scale_derives_all_five_levels(people, impact, urgency, level, rank):
    switch_to_itil(people)
    incident = report(people, impact=impact, urgency=urgency)
    stored = Incident.objects.select_related("priority").get(pk=incident.pk)
    assert (stored.priority.slug, stored.priority.label, stored.priority_rank) == (
        level,
        dict(ITIL_SCALE)[level],
        rank,
    )


def test_switching_to_itil_leaves_another_tenant_on_its_own_matrix(people):
    switch_to_itil(people)
    globex = PriorityMatrixCell.objects.for_tenant(people.globex).select_related("level")
    assert globex.get(impact="high", urgency="high").level.slug == "high"
    assert PriorityLevel.objects.for_tenant(people.globex).filter(is_active=True).count() == 3


def test_switching_the_scale_rederives_open_incidents_with_an_event(people):
    open_high = report(people, impact="high", urgency="high")  # high -> critical
    open_low = report(people, impact="low", urgency="low")  # low -> planning
    open_mid = report(people, impact="medium", urgency="low")  # low -> low, rank 3 -> 4
    closed = incident_in(people, "closed")  # medium x medium, stays medium

    changed = switch_to_itil(people)

    assert changed == 3
    expect = {open_high: ("critical", 1), open_low: ("planning", 5), open_mid: ("low", 4)}
    for incident, (slug, rank) in expect.items():
        stored = Incident.objects.select_related("priority").get(pk=incident.pk)
        assert (stored.priority.slug, stored.priority_rank) == (slug, rank)
        # The last change of fields (the SLA re-target after it is its own internal event).
        event = IncidentEvent.objects.filter(incident=incident).exclude(kind="sla").last()
        assert event.kind == "field_changed"
        assert event.reason == "The tenant's priority matrix changed."
        assert event.actor_user == people.ada
        assert event.incident_version == stored.version
    assert IncidentEvent.objects.filter(incident=open_high).exclude(kind="sla").last().data == {
        "changes": {"priority": ["high", "critical"]}
    }
    stored_closed = Incident.objects.select_related("priority").get(pk=closed.pk)
    assert (stored_closed.priority.slug, stored_closed.version) == ("medium", closed.version)
    # The retired level stays for the closed incident that names it, off the active scale.
    assert not stored_closed.priority.is_active


def test_the_scale_is_shown_in_its_new_order(people):
    switch_to_itil(people)
    active = PriorityLevel.objects.for_tenant(people.acme).filter(is_active=True)
    assert list(active.order_by("rank").values_list("slug", "rank")) == [
        ("critical", 1),
        ("high", 2),
        ("moderate", 3),
        ("low", 4),
        ("planning", 5),
    ]


def _unchanged(people):
    cells = PriorityMatrixCell.objects.for_tenant(people.acme)
    levels = PriorityLevel.objects.for_tenant(people.acme)
    return sorted(cells.values_list("impact", "urgency", "level__slug")), sorted(
        levels.values_list("slug", "rank", "is_active")
    )


def test_a_matrix_with_a_hole_is_refused(people):
    before = _unchanged(people)
    holed = {row: dict(cells) for row, cells in ITIL_MATRIX.items()}
    del holed["low"]["low"]
    holed["medium"]["high"] = ""
    with pytest.raises(InvalidInput) as refused:
        services.matrix_set(actor=people.actor(people.ada), scale=ITIL_SCALE, matrix=holed)
    assert refused.value.field == "matrix"
    assert refused.value.message == (
        "The matrix has a hole: choose a priority for medium impact x high urgency, "
        "low impact x low urgency."
    )
    assert _unchanged(people) == before


def test_a_matrix_naming_a_level_off_the_scale_is_refused(people):
    before = _unchanged(people)
    matrix = {row: dict(cells) for row, cells in ITIL_MATRIX.items()}
    matrix["low"]["low"] = "someday"
    with pytest.raises(InvalidInput, match="levels not on the scale: someday"):
        services.matrix_set(actor=people.actor(people.ada), scale=ITIL_SCALE, matrix=matrix)
    assert _unchanged(people) == before


def test_a_scale_of_six_levels_is_refused(people):
    before = _unchanged(people)
    six = [*ITIL_SCALE, ("whenever", "Whenever")]
    with pytest.raises(InvalidInput) as refused:
        services.matrix_set(actor=people.actor(people.ada), scale=six, matrix=ITIL_MATRIX)
    assert refused.value.message == "A priority scale has one to 5 levels (this one has 6)."
    assert _unchanged(people) == before


def test_a_scale_naming_one_level_twice_is_refused(people):
    with pytest.raises(InvalidInput, match="Each priority level needs its own slug"):
        services.matrix_set(
            actor=people.actor(people.ada),
            scale=[("high", "High"), ("high", "Also high"), ("low", "Low")],
            matrix={i: {u: "high" for u in ("high", "medium", "low")} for i in ITIL_MATRIX},
        )


@pytest.mark.parametrize("who", ["max", "alice", "rita"])
def test_only_a_tenant_admin_may_change_the_matrix(people, who):
    before = _unchanged(people)
    with pytest.raises(NotAllowed, match="Only a tenant admin can change the priority matrix"):
        services.matrix_set(
            actor=people.actor(getattr(people, who)), scale=ITIL_SCALE, matrix=ITIL_MATRIX
        )
    assert _unchanged(people) == before


def test_going_back_to_three_levels_reuses_the_old_ones(people):
    switch_to_itil(people)
    incident = report(people, impact="low", urgency="low")
    services.matrix_set(
        actor=people.actor(people.ada),
        scale=[("high", "High"), ("medium", "Medium"), ("low", "Low")],
        matrix={
            "high": {"high": "high", "medium": "high", "low": "medium"},
            "medium": {"high": "high", "medium": "medium", "low": "low"},
            "low": {"high": "medium", "medium": "low", "low": "low"},
        },
    )
    stored = Incident.objects.select_related("priority").get(pk=incident.pk)
    assert (stored.priority.slug, stored.priority_rank) == ("low", 3)
    active = PriorityLevel.objects.for_tenant(people.acme).filter(is_active=True)
    assert sorted(active.values_list("slug", "rank")) == [("high", 1), ("low", 3), ("medium", 2)]
