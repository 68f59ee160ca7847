"""The audit log of the incidents app's configuration (issue 17): groups, categories,
resolution codes, the priority matrix and the organisation's canned responses. One record per
change, with only what changed, in words; a refused change records nothing."""

from __future__ import annotations

import pytest

from incidents.services import canned, config
from incidents.services.defaults import DEFAULT_MATRIX, ITIL_MATRIX, ITIL_SCALE
from incidents.services.priority import matrix_set
from tenancy.audit import changes_in_words
from tenancy.errors import InvalidInput, NotAllowed
from tests.audit_support import one

pytestmark = pytest.mark.django_db

ITIL = [(slug, label) for slug, label, _ in ITIL_SCALE]
DEFAULT = [("high", "High"), ("medium", "Medium"), ("low", "Low")]


def test_creating_a_group_records_it_with_its_lead_and_members(people, audit):
    group = config.group_create(
        actor=people.actor(people.ada), name="Network team", lead=people.max, members=[people.max]
    )
    record = one(audit, "group.created")
    assert (record.actor_name, record.actor_user_id) == ("Ada Admin", people.ada.pk)
    assert (record.target_type, record.target_id) == ("assignmentgroup", str(group.pk))
    assert record.target_label == "Network team"
    assert record.before == {}
    assert record.after["lead"] == "Max Manager"
    assert record.after["members"] == ["Max Manager"]


def test_changing_a_group_records_only_what_changed(people, audit):
    group = people.group
    config.group_update(
        actor=people.actor(people.ada),
        group=group,
        name="First line",
        slug=group.slug,
        description=group.description,
        lead=None,
        members=[people.alice],
        auto_assign=group.auto_assign,
        is_active=group.is_active,
    )
    record = one(audit, "group.changed")
    assert record.before == {"name": "Service Desk", "members": ["Alice Agent", "Bob Agent"]}
    assert record.after == {"name": "First line", "members": ["Alice Agent"]}


def test_a_refused_group_writes_no_record(people, audit):
    with pytest.raises(InvalidInput):
        config.group_create(actor=people.actor(people.ada), name="Desk", slug="service-desk")
    with pytest.raises(NotAllowed):
        config.group_create(actor=people.actor(people.alice), name="Mine")
    assert audit() == []


def test_a_category_is_recorded_when_made_rerouted_and_deactivated(people, audit):
    ada = people.actor(people.ada)
    category = config.category_create(actor=ada, name="Printers")
    config.category_update(
        actor=ada, category=category, name="Printers", slug=category.slug, group=people.group
    )
    config.category_deactivate(actor=ada, category=category)
    made, routed, gone = audit()
    assert (made.action, made.after) == (
        "category.created",
        {"name": "Printers", "slug": "printers"},
    )
    assert (routed.action, routed.before, routed.after) == (
        "category.changed",
        {"route_to_group": None},
        {"route_to_group": "Service Desk"},
    )
    assert changes_in_words(routed) == ["Route to group: — → Service Desk"]
    assert (gone.action, gone.before, gone.after) == (
        "category.deactivated",
        {"active": True},
        {"active": False},
    )
    assert gone.target_label == "Printers"


def test_saving_a_category_unchanged_records_nothing(people, audit):
    network = people.network
    config.category_update(
        actor=people.actor(people.ada),
        category=network,
        name=network.name,
        slug=network.slug,
        group=people.group,
    )
    assert audit() == []


def test_a_category_refused_to_an_agent_writes_no_record(people, audit):
    with pytest.raises(NotAllowed):
        config.category_deactivate(actor=people.actor(people.alice), category=people.network)
    assert audit() == []


def test_resolution_codes_are_recorded_when_added_renamed_and_deactivated(people, audit):
    ada = people.actor(people.ada)
    code = config.resolution_code_create(actor=ada, label="Replaced hardware")
    config.resolution_code_rename(actor=ada, code=code, label="Hardware replaced")
    config.resolution_code_deactivate(actor=ada, code=code)
    made, renamed, gone = audit()
    assert (made.action, made.after) == (
        "resolution_code.created",
        {"label": "Replaced hardware", "slug": "replaced-hardware"},
    )
    assert (renamed.action, renamed.before, renamed.after) == (
        "resolution_code.renamed",
        {"label": "Replaced hardware"},
        {"label": "Hardware replaced"},
    )
    assert (gone.action, gone.target_label) == ("resolution_code.deactivated", "Hardware replaced")


def test_a_matrix_change_is_recorded_cell_by_cell_in_words(people, audit):
    matrix_set(actor=people.actor(people.ada), scale=ITIL, matrix=ITIL_MATRIX)
    record = one(audit, "matrix.changed")
    assert record.target_label == "priority matrix"
    assert record.before["High impact × High urgency"] == "High"
    assert record.after["High impact × High urgency"] == "Critical"
    assert record.before["scale"] == ["High", "Medium", "Low"]
    assert record.after["scale"] == ["Critical", "High", "Moderate", "Low", "Planning"]
    # The medium × high cell was High and stays High: not in the record.
    assert "Medium impact × High urgency" not in record.after
    assert "High impact × high urgency: High → Critical" in changes_in_words(record)


def test_one_cell_changed_is_the_only_cell_recorded(people, audit):
    matrix = {i: dict(row) for i, row in DEFAULT_MATRIX.items()}
    matrix["low"]["low"] = "medium"
    matrix_set(actor=people.actor(people.ada), scale=DEFAULT, matrix=matrix)
    record = one(audit, "matrix.changed")
    assert record.before == {"Low impact × Low urgency": "Low"}
    assert record.after == {"Low impact × Low urgency": "Medium"}


def test_a_refused_or_unchanged_matrix_writes_no_record(people, audit):
    holed = {i: dict(row) for i, row in DEFAULT_MATRIX.items()}
    del holed["low"]["low"]
    with pytest.raises(InvalidInput):
        matrix_set(actor=people.actor(people.ada), scale=DEFAULT, matrix=holed)
    with pytest.raises(NotAllowed):
        matrix_set(actor=people.actor(people.max), scale=ITIL, matrix=ITIL_MATRIX)
    matrix_set(actor=people.actor(people.ada), scale=DEFAULT, matrix=DEFAULT_MATRIX)
    assert audit() == []


def test_the_organisations_canned_responses_are_recorded(people, audit):
    ada = people.actor(people.ada)
    response = canned.canned_response_create(
        actor=ada, name="Thanks", body="Thank you, {requester_name}.", personal=False
    )
    canned.canned_response_update(
        actor=ada, response=response, name="Thanks", body="Thanks a lot, {requester_name}."
    )
    canned.canned_response_delete(actor=ada, response=response)
    made, changed, gone = audit()
    assert (made.action, made.after["name"]) == ("canned_response.created", "Thanks")
    assert (changed.action, changed.before, changed.after) == (
        "canned_response.changed",
        {"text": "Thank you, {requester_name}."},
        {"text": "Thanks a lot, {requester_name}."},
    )
    assert (gone.action, gone.before["name"], gone.after) == (
        "canned_response.deleted",
        "Thanks",
        {},
    )
    assert gone.target_id == str(response.pk)


def test_an_agents_personal_canned_responses_are_not_configuration(people, audit):
    alice = people.actor(people.alice)
    mine = canned.canned_response_create(actor=alice, name="Mine", body="Hi.", personal=True)
    canned.canned_response_update(actor=alice, response=mine, name="Mine", body="Hello.")
    canned.canned_response_delete(actor=alice, response=mine)
    assert audit() == []


def test_charlies_tenant_gets_none_of_acmes_records(people, audit):
    ada = people.actor(people.ada)
    config.group_create(actor=ada, name="Network team")
    matrix_set(actor=ada, scale=ITIL, matrix=ITIL_MATRIX)
    assert len(audit()) == 2
    assert audit(people.globex) == []
