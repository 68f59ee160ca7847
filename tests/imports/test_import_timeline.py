"""Timeline replay: chosen incidents of the sample, each with the history the issue's state
mapping gives, event by event, at the times the file says."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from incidents.models import Incident, IncidentEvent
from tests.imports.conftest import day_first, histories, without_line, write_csv

CHOSEN = ["INC0000045", "INC0000130", "INC0000715", "INC0001287", "INC0000102"]
UTC_ZONE = ZoneInfo("UTC")


# A line of the chosen file -> the line of the same row in the sample.
SAMPLE_LINE: dict[int, int] = {}


@pytest.fixture
def chosen(db, tmp_path, import_file):
    """A file of the chosen incidents' rows, as they stand in the sample, imported."""
    rows = [r for n in CHOSEN for r in histories()[n]]
    SAMPLE_LINE.update({line: r["line"] for line, r in enumerate(rows, start=2)})
    path = write_csv(tmp_path / "chosen.csv", [without_line(r) for r in rows])
    import_file(path, "--create-tenant")
    return {n: Incident.objects.get(tenant__slug="snow", source_number=n) for n in CHOSEN}


def at(text: str, zone: ZoneInfo = UTC_ZONE) -> datetime:
    return day_first(text).replace(tzinfo=zone).astimezone(UTC)


def story(incident: Incident) -> list[tuple]:
    """(what, from, to, when, sample line) of each event, in the order they were recorded."""
    events = IncidentEvent.objects.filter(incident=incident).order_by("id")
    return [
        (
            e.transition or e.kind,
            e.from_state,
            e.to_state,
            e.created_at,
            SAMPLE_LINE[e.data["source"]["line"]],
        )
        for e in events
    ]


def expected(number: str, steps: list[tuple[str, str, str, int]]) -> list[tuple]:
    """Steps by source line; the time of each is that row's sys_updated_at in the file."""
    rows = {r["line"]: r for r in histories()[number]}
    first = histories()[number][0]
    opened = ("reported", "", "reported", at(first["opened_at"]), first["line"])
    return [opened] + [
        (what, a, b, at(rows[line]["sys_updated_at"]), line) for what, a, b, line in steps
    ]


def test_new_then_resolved_then_closed_is_recorded_as_it_happened(chosen):
    incident = chosen["INC0000045"]
    assert story(incident) == expected(
        "INC0000045",
        [
            ("field_changed", "", "", 2),
            ("resolve", "reported", "resolved", 3),
            ("field_changed", "", "", 4),
            ("close", "resolved", "closed", 5),
        ],
    )
    last = histories()["INC0000045"][-1]
    assert incident.state == "closed" and incident.acknowledged_at is None
    assert incident.resolved_at == at(last["resolved_at"])  # ServiceNow's own resolved_at
    assert incident.closed_at == at(last["closed_at"])


def test_rows_are_ordered_by_modification_count_before_time(chosen):
    """INC0000130's update 1 (09:59) comes before its update 2 (07:27): the count wins, and
    becoming Active with a group escalates to it before work starts."""
    incident = chosen["INC0000130"]
    assert story(incident) == expected(
        "INC0000130",
        [
            ("field_changed", "", "", 331),
            ("assigned", "", "", 330),
            ("escalate", "reported", "escalated", 332),
            ("accept", "escalated", "diagnosing", 332),
            ("field_changed", "", "", 333),
            ("resolve", "diagnosing", "resolved", 334),
            ("close", "resolved", "closed", 335),
        ],
    )
    assert incident.group.name == "Group 73" and incident.assignee.full_name == "Resolver 198"
    assert incident.acknowledged_at == at("01-03-2016 14:13")


def test_reopens_are_recorded_and_counted(chosen):
    incident = chosen["INC0000715"]
    steps = [
        ("field_changed", "", "", 2430),
        ("escalate", "reported", "escalated", 2431),
        ("accept", "escalated", "diagnosing", 2431),
        ("resolve", "diagnosing", "resolved", 2432),
        ("reopen", "resolved", "diagnosing", 2433),
        ("field_changed", "", "", 2434),
        ("resolve", "diagnosing", "resolved", 2435),
        ("reopen", "resolved", "diagnosing", 2436),
        ("field_changed", "", "", 2437),
        ("field_changed", "", "", 2438),
        ("resolve", "diagnosing", "resolved", 2439),
        ("close", "resolved", "closed", 2440),
    ]
    assert story(incident) == expected("INC0000715", steps)
    assert incident.reopen_count == 2


def test_awaiting_states_become_holds_with_their_reason(chosen):
    incident = chosen["INC0001287"]
    assert story(incident) == expected(
        "INC0001287",
        [
            ("escalate", "reported", "escalated", 5314),
            ("accept", "escalated", "diagnosing", 5314),
            ("field_changed", "", "", 5315),
            ("field_changed", "", "", 5316),
            ("hold", "diagnosing", "on_hold", 5317),
            ("hold", "on_hold", "on_hold", 5318),
            ("resolve", "on_hold", "resolved", 5319),
            ("close", "resolved", "closed", 5320),
        ],
    )
    holds = IncidentEvent.objects.filter(incident=incident, transition="hold").order_by("id")
    # Awaiting Vendor, then Awaiting Evidence (which waits on the caller).
    assert [e.data["hold_reason"] for e in holds] == ["awaiting_vendor", "awaiting_caller"]
    assert incident.hold_reason == ""


def test_a_hold_before_anyone_worked_on_it_resumes_into_diagnosis(chosen):
    incident = chosen["INC0000102"]
    moves = [s[:3] for s in story(incident) if s[0] not in ("field_changed", "assigned")]
    assert moves == [
        ("reported", "", "reported"),
        ("hold", "reported", "on_hold"),
        ("resume", "on_hold", "diagnosing"),
        ("hold", "diagnosing", "on_hold"),
        ("resolve", "on_hold", "resolved"),
        ("reopen", "resolved", "diagnosing"),
        ("resolve", "diagnosing", "resolved"),
        ("close", "resolved", "closed"),
    ]
    assert incident.acknowledged_at == at("03-03-2016 17:29")  # work started: Active
    assert incident.reopen_count == 1


def test_updates_that_change_nothing_kept_here_stay_internal(chosen):
    events = IncidentEvent.objects.filter(incident=chosen["INC0000045"], kind="field_changed")
    assert [(e.public, e.data["changes"]) for e in events] == [(False, {}), (False, {})]


def test_the_files_times_are_read_in_the_zone_given(db, tmp_path, import_file):
    rows = [without_line(r) for r in histories()["INC0000045"]]
    import_file(write_csv(tmp_path / "one.csv", rows), "--create-tenant", "--time-zone",
                "Europe/Paris")  # fmt: skip
    incident = Incident.objects.get(tenant__slug="snow", source_number="INC0000045")
    paris = ZoneInfo("Europe/Paris")
    assert incident.reported_at == at("29-02-2016 01:16", paris)
    assert incident.reported_at.hour == 0  # 01:16 in Paris is 00:16 UTC in winter
