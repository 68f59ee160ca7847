"""History is history: an import sends nothing and alerts nobody, and the SLA clocks of the
imported incidents are computed from their real timeline with the tenant's calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalation.models import (
    EscalationRun,
    Notification,
    SlaAlert,
    SlaClock,
    WebhookEndpoint,
    WebhookEvent,
)
from escalation.selectors.breaching import clocks_near_breach
from escalation.services.alerts import alerts_notify_pending
from escalation.services.sweep import sweep_due
from incidents.models import Incident, IncidentEvent
from incidents.services import incident_report
from tests.imports.conftest import source_row, write_csv

HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%d-%m-%Y %H:%M").replace(tzinfo=UTC)


def clocks(number: str) -> dict[str, SlaClock]:
    incident = Incident.objects.get(source_number=number)
    return {c.metric: c for c in SlaClock.objects.filter(incident=incident)}


def history(number: str, *steps: tuple, **fields: str) -> list[dict]:
    """Rows of one incident: (state, day-first time) each, opened at the first one."""
    opened = steps[0][1]
    return [
        source_row(number, state, n, at, opened_at=opened, **fields)
        for n, (state, at) in enumerate(steps)
    ]


def import_history(import_file, tmp_path, number: str, *steps: tuple) -> Incident:
    """Import one incident's rows into a new tenant with the file's matrix; the incident."""
    rows = history(number, *steps)
    import_file(write_csv(tmp_path / f"{number}.csv", rows), "--create-tenant",
                "--adopt-source-matrix")  # fmt: skip
    return Incident.objects.get(source_number=number)


def pauses(clock: SlaClock) -> list[tuple]:
    return [(p.started_at, p.ended_at, p.reason) for p in clock.pauses.all()]


# 1 March 2016 is a Tuesday. The default calendar: Monday to Friday, 09:00-17:00, UTC here.
MODERATE = history(
    "INC1",
    ("New", "01-03-2016 09:00"),
    ("Active", "01-03-2016 10:00"),
    ("Awaiting User Info", "01-03-2016 11:00"),
    ("Active", "01-03-2016 14:00"),
    ("Resolved", "01-03-2016 16:00"),
    ("Closed", "07-03-2016 12:00"),
)
HIGH = history(
    "INC2",
    ("New", "04-03-2016 16:00"),  # a Friday, an hour before closing time
    ("Active", "07-03-2016 10:00"),
    ("Resolved", "08-03-2016 12:00"),
    ("Closed", "14-03-2016 12:00"),
    impact="1 - High",
    priority="2 - High",
)


def test_clocks_count_business_time_and_holds_from_the_real_timeline(db, tmp_path, import_file):
    import_file(write_csv(tmp_path / "h.csv", MODERATE + HIGH), "--create-tenant",
                "--adopt-source-matrix")  # fmt: skip
    moderate = clocks("INC1")  # targets: response 4 h, resolution 3 business days (24 h)
    assert moderate["response"].state == "met"
    assert moderate["response"].spent == HOUR  # 09:00 -> work started at 10:00
    assert moderate["response"].stopped_at == utc("01-03-2016 10:00")
    resolution = moderate["resolution"]
    assert resolution.state == "met"
    # 09:00-11:00 and 14:00-16:00: the wait for the caller and the time resolved do not count.
    assert resolution.spent == 4 * HOUR
    assert resolution.stopped_at == utc("07-03-2016 12:00")
    pauses = list(resolution.pauses.order_by("started_at").values_list("started_at", "reason"))
    assert pauses == [
        (utc("01-03-2016 11:00"), "awaiting_caller"),
        (utc("01-03-2016 16:00"), "resolved"),
    ]


def test_a_target_passed_in_history_is_a_breach_dated_when_it_happened(db, tmp_path, import_file):
    import_file(write_csv(tmp_path / "h.csv", HIGH), "--create-tenant", "--adopt-source-matrix")
    high = clocks("INC2")  # targets: response 30 min, resolution 8 business hours
    assert high["response"].state == "breached"
    assert high["response"].breached_at == utc("04-03-2016 16:30")
    # Friday 16:00-17:00 is one hour; seven more on Monday reach eight at 16:00.
    assert high["resolution"].state == "breached"
    assert high["resolution"].breached_at == utc("07-03-2016 16:00")
    assert high["resolution"].spent == 8 * HOUR
    assert not SlaAlert.objects.exists()


def test_an_import_sends_nothing_where_the_live_desk_would(people, tmp_path, import_file):
    """Same category, routed group and webhook subscriptions: the live report notifies and
    starts an escalation; the import of a history through them does neither."""
    WebhookEndpoint.objects.create(
        tenant=people.acme, url="https://hooks.example.test/in", events=WebhookEvent.values
    )
    now = timezone.now()
    stamp = (now - 30 * HOUR).strftime("%d-%m-%Y %H:%M")
    rows = [
        *history("INC1", ("New", "01-03-2016 09:00"), ("Active", "01-03-2016 10:00"),
                 ("Resolved", "02-03-2016 10:00"), ("Closed", "07-03-2016 10:00"),
                 category="Network", assignment_group="Service Desk"),
        *history("INC2", ("New", stamp), ("Active", stamp), category="Network",
                 assignment_group="Service Desk", assigned_to="Resolver 7"),
    ]  # fmt: skip
    import_file(write_csv(tmp_path / "h.csv", rows), tenant="acme")
    sweep_due(now=timezone.now())  # thresholds INC2 passed before the import are history
    alerts_notify_pending(limit=100)
    assert Notification.objects.count() == 0
    assert SlaAlert.objects.count() == 0 and EscalationRun.objects.count() == 0

    live = incident_report(actor=people.actor(people.rita), title="VPN", category=people.network)
    assert Notification.objects.filter(incident=live).count() > 0
    assert EscalationRun.objects.filter(incident=live).exists()


def test_an_open_imported_incident_keeps_only_the_thresholds_still_ahead(db, tmp_path, import_file):
    now = timezone.now().replace(second=0, microsecond=0)
    stamp = lambda delta: (now - delta).strftime("%d-%m-%Y %H:%M")  # noqa: E731
    rows = history("INC1", ("New", stamp(2 * HOUR)), ("Active", stamp(HOUR)))
    old = history("INC2", ("New", "01-03-2016 09:00"), ("Active", "01-03-2016 10:00"))
    held = history("INC3", ("New", "01-03-2016 09:00"), ("Awaiting User Info", "01-03-2016 10:00"))
    import_file(write_csv(tmp_path / "open.csv", rows + old + held), "--create-tenant",
                "--adopt-source-matrix")  # fmt: skip

    running = clocks("INC1")["resolution"]
    assert running.state == "running" and running.running_since == now - 2 * HOUR
    assert running.due_at is not None and running.due_at > now
    assert [p for p, _ in running.checkpoints][-1] == 100
    assert running.next_check_at > now  # nothing past is left to fire
    assert clocks("INC2")["resolution"].state == "breached"  # long overdue: history, no alert
    assert clocks("INC2")["resolution"].stopped_at is None
    assert clocks("INC3")["resolution"].state == "paused"  # awaiting the caller since 2016
    assert clocks("INC3")["response"].state == "paused"
    assert sweep_due(now=timezone.now()).alerts == 0


def test_the_sla_page_explains_an_imported_incidents_clocks(people, login, tmp_path, import_file):
    import_file(write_csv(tmp_path / "h.csv", MODERATE), tenant="acme")
    incident = Incident.objects.get(tenant=people.acme, source_number="INC1")
    url = reverse(
        "escalation-incident-sla", kwargs={"tenant_slug": "acme", "number": incident.number}
    )
    page = login(people.alice).get(url).content.decode()
    assert "Met" in page


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ((("New", "01-03-2016 09:00"),), {"response": "stopped", "resolution": "stopped"}),
        # Work started at 10:00 ends the response clock, met; only the resolution is cancelled.
        (
            (("New", "01-03-2016 09:00"), ("Active", "01-03-2016 10:00")),
            {"response": "met", "resolution": "stopped"},
        ),
    ],  # fmt: skip
)
def test_a_cancelled_incident_is_imported_cancelled_and_its_clocks_have_no_outcome(
    db, tmp_path, import_file, steps, expected
):
    """ServiceNow's Canceled: not a refused row that leaves the incident open in the desk, and
    no SLA outcome (met would count towards compliance), as a live cancellation gives."""
    rows = history("INC9", *steps, ("Canceled", "01-03-2016 11:00"))
    out = import_file(
        write_csv(tmp_path / "c.csv", rows), "--create-tenant", "--adopt-source-matrix"
    )
    assert "skipped" not in out or "0 rows skipped" in out or "skipped: 0" in out
    incident = Incident.objects.get(source_number="INC9")
    assert (incident.state, incident.cancelled_at) == ("cancelled", utc("01-03-2016 11:00"))
    last = IncidentEvent.objects.filter(incident=incident).order_by("created_at", "id").last()
    assert (last.transition, last.to_state) == ("cancel", "cancelled")
    assert {metric: clock.state for metric, clock in clocks("INC9").items()} == expected
    assert clocks("INC9")["resolution"].stopped_at == utc("01-03-2016 11:00")
    assert not SlaAlert.objects.exists()


def test_a_cancellation_the_source_took_back_leaves_counting_clocks(db, tmp_path, import_file):
    """Canceled, then Active again: the incident is worked and closed, so its clocks must have
    an outcome (a clock left stopped would drop it from compliance), and the cancelled hour
    does not count."""
    incident = import_history(
        import_file,
        tmp_path,
        "INC10",
        ("New", "01-03-2016 09:00"),
        ("Canceled", "01-03-2016 10:00"),
        ("Active", "01-03-2016 11:00"),
        ("Resolved", "01-03-2016 13:00"),
        ("Closed", "07-03-2016 12:00"),
    )
    assert (incident.state, incident.cancelled_at) == ("closed", None)
    response, resolution = clocks("INC10")["response"], clocks("INC10")["resolution"]
    assert (response.state, response.stopped_at) == ("met", utc("01-03-2016 11:00"))
    assert response.spent == HOUR  # 09:00-10:00; cancelled 10:00-11:00, then work started
    assert (resolution.state, resolution.spent) == ("met", 3 * HOUR)  # 09-10 and 11-13
    assert pauses(resolution) == [
        (utc("01-03-2016 10:00"), utc("01-03-2016 11:00"), "cancelled"),
        (utc("01-03-2016 13:00"), utc("07-03-2016 12:00"), "resolved"),
    ]


def test_a_cancellation_taken_back_and_still_open_runs_towards_its_deadline(
    db, tmp_path, import_file
):
    now = timezone.now().replace(microsecond=0)
    fmt = "%d-%m-%Y %H:%M"
    steps = (("New", now - 3 * HOUR), ("Canceled", now - 2 * HOUR), ("New", now - HOUR))
    steps = tuple((state, at.strftime(fmt)) for state, at in steps)
    assert import_history(import_file, tmp_path, "INC11", *steps).state == "reported"
    for clock in clocks("INC11").values():
        assert clock.state == "running" and clock.stopped_at is None
        assert clock.running_since == (now - HOUR).replace(second=0)
        assert clock.due_at is not None and clock.due_at > now


def test_a_closed_incident_the_source_reopens_counts_again_until_closed_anew(
    db, tmp_path, import_file
):
    """Closed, then Active: the resolution clock counts the second stretch of work too (a clock
    left stopped at the first close would report met on too little); neither the time resolved
    nor the time closed counts. The response clock, ended by the first work, stays ended."""
    incident = import_history(
        import_file,
        tmp_path,
        "INC12",
        ("New", "01-03-2016 09:00"),
        ("Active", "01-03-2016 10:00"),
        ("Resolved", "01-03-2016 11:00"),
        ("Closed", "01-03-2016 12:00"),
        ("Active", "01-03-2016 13:00"),
        ("Resolved", "01-03-2016 14:00"),
        ("Closed", "01-03-2016 15:00"),
    )
    assert (incident.state, incident.closed_at) == ("closed", utc("01-03-2016 15:00"))
    response, resolution = clocks("INC12")["response"], clocks("INC12")["resolution"]
    assert (response.state, response.stopped_at, response.spent) == (
        "met",
        utc("01-03-2016 10:00"),
        HOUR,
    )
    assert (resolution.state, resolution.stopped_at) == ("met", utc("01-03-2016 15:00"))
    assert resolution.spent == 3 * HOUR  # 09:00-11:00 and 13:00-14:00
    assert pauses(resolution) == [
        (utc("01-03-2016 11:00"), utc("01-03-2016 12:00"), "resolved"),
        (utc("01-03-2016 12:00"), utc("01-03-2016 13:00"), "closed"),
        (utc("01-03-2016 14:00"), utc("01-03-2016 15:00"), "resolved"),
    ]


def test_a_reopened_closed_incident_still_open_has_no_closed_time(db, tmp_path, import_file):
    incident = import_history(
        import_file,
        tmp_path,
        "INC13",
        ("New", "01-03-2016 09:00"),
        ("Resolved", "01-03-2016 10:00"),
        ("Closed", "01-03-2016 11:00"),
        ("Active", "01-03-2016 12:00"),
    )
    assert (incident.state, incident.closed_at, incident.resolved_at) == ("diagnosing", None, None)
    assert clocks("INC13")["resolution"].state in ("running", "breached")


def test_a_resolved_incident_whose_resolution_clock_breached_is_set_aside(
    db, tmp_path, import_file
):
    """Resolved in the source and not closed yet: its resolution clock breached before the
    resolve, so it is set aside at the resolve as live (still breached, stopped then) and puts
    the resolved incident in no "Breaching soon". Resolved and taken back, it counts again."""
    resolved = history(
        "INC14",
        ("New", "01-03-2016 09:00"),
        ("Active", "01-03-2016 10:00"),
        ("Resolved", "07-03-2016 12:00"),  # 3 business days (24 h) had run out by then
    )
    reopened = history(
        "INC15",
        ("New", "01-03-2016 09:00"),
        ("Resolved", "07-03-2016 12:00"),
        ("Active", "07-03-2016 13:00"),
    )
    import_file(write_csv(tmp_path / "r.csv", resolved + reopened), "--create-tenant",
                "--adopt-source-matrix")  # fmt: skip
    incident = Incident.objects.get(source_number="INC14")
    assert incident.state == "resolved"
    resolution = clocks("INC14")["resolution"]
    assert (resolution.state, resolution.stopped_at) == ("breached", utc("07-03-2016 12:00"))
    assert resolution.breached_at == resolution.due_at < utc("07-03-2016 12:00")

    assert Incident.objects.get(source_number="INC15").state == "diagnosing"
    resolution = clocks("INC15")["resolution"]
    assert (resolution.state, resolution.stopped_at) == ("breached", None)
    near = clocks_near_breach(tenant_id=incident.tenant_id).filter(metric="resolution")
    assert list(near.values_list("incident__source_number", flat=True)) == ["INC15"]
