"""A report reuses what an earlier report read of the tenant's configuration
(incidents.services.tenant_config) until that configuration changes. Every change, whether by a
service or by a bare UPDATE that no Python code sees, shows in the very next report; a change
that was rolled back does not."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, connections, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from escalation.models import (
    BusinessCalendar,
    CalendarHoliday,
    EscalationLevel,
    EscalationPolicy,
    EscalationRun,
    Notification,
    SlaClock,
    SlaPolicy,
    WebhookEndpoint,
)
from escalation.services.config import sla_policy_save
from escalation.services.webhooks import webhook_endpoint_rotate_secret
from incidents import services
from incidents.models import AssignmentGroup, Category, Incident, PriorityLevel
from incidents.services.config import category_deactivate
from tenancy.config_stamp import ConfigBusy
from tenancy.errors import InvalidInput
from tests.concurrency import report_in_flight
from tests.factories import CategoryFactory, GroupFactory
from tests.incidents.build import ITIL_MATRIX, ITIL_SCALE

CONFIG_TABLES = (
    "incidents_category",
    "incidents_prioritymatrixcell",
    "escalation_slapolicy",
    "escalation_calendarholiday",
    "escalation_escalationpolicy",
    "escalation_escalationlevel",
    "escalation_webhookendpoint",
)


def report(people, **fields) -> Incident:
    """A report the way the API makes one (the category named by its slug), run to its commit:
    what it read is kept only once it commits (the test's own transaction never does)."""
    fields.setdefault("title", "VPN drops every hour")
    fields.setdefault("category_slug", "network")
    fields.setdefault("actor", people.actor(people.alice))
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.incident_report(**fields)


def response_clock(incident: Incident) -> SlaClock:
    return SlaClock.objects.get(incident=incident, metric="response")


def run_of(incident: Incident) -> EscalationRun:
    return EscalationRun.objects.get(incident=incident)


def policy_of(incident: Incident) -> SlaPolicy:
    return SlaPolicy.objects.get(tenant=incident.tenant, priority=incident.priority)


def stamp(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT config_stamp FROM tenancy_tenant WHERE id = %s", [tenant.pk])
        return cursor.fetchone()[0]


@pytest.mark.postgres  # SQLite has no stamp: every report reads the configuration there
def test_the_next_report_reads_no_configuration_again(people):
    with CaptureQueriesContext(connection) as first:
        report(people)
    with CaptureQueriesContext(connection) as second:
        incident = report(people)

    read_first = [q["sql"] for q in first if any(t in q["sql"] for t in CONFIG_TABLES)]
    read_second = [q["sql"] for q in second if any(t in q["sql"] for t in CONFIG_TABLES)]
    assert read_first, "the first report reads the configuration"
    assert read_second == []
    assert len(second) < len(first)
    # ... and what it reused is what the first one read.
    assert (incident.state, incident.group, incident.category) == (
        "escalated",
        people.group,
        people.network,
    )
    assert response_clock(incident).target_seconds == policy_of(incident).response_seconds
    assert run_of(incident).policy.group is None


def _matrix(people) -> None:
    services.matrix_set(actor=people.actor(people.ada), scale=ITIL_SCALE, matrix=ITIL_MATRIX)


def _level_renamed(people) -> None:
    PriorityLevel.objects.filter(tenant=people.acme).update(label="Renamed")


def _response_target(people) -> None:
    SlaPolicy.objects.filter(tenant=people.acme).update(response_seconds=777)


def _calendar_always_open(people) -> None:
    BusinessCalendar.objects.filter(tenant=people.acme).update(always_open=True)


def _days_off(people) -> None:
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    today = date.today()
    CalendarHoliday.objects.bulk_create(
        CalendarHoliday(
            tenant=people.acme, calendar=calendar, date=today + timedelta(d), name="Off"
        )
        for d in range(-1, 30)
    )


def _first_level_later(people) -> None:
    EscalationLevel.objects.filter(tenant=people.acme, position=1).update(after_seconds=4321)


def _group_policy(people) -> None:
    policy = EscalationPolicy.objects.create(
        tenant=people.acme, name="Desk's own", group=people.group
    )
    EscalationLevel.objects.create(
        tenant=people.acme, policy=policy, position=1, after_seconds=60, notify="group_lead"
    )


def _webhook(people) -> None:
    WebhookEndpoint.objects.create(
        tenant=people.acme, url="https://hooks.example.com/desk", events=["incident.created"]
    )


def _category_retired(people) -> None:
    category_deactivate(actor=people.actor(people.ada), category=people.network)


def _category_unrouted(people) -> None:
    Category.objects.filter(pk=people.network.pk).update(group=None)


def _group_retired(people) -> None:
    AssignmentGroup.objects.filter(pk=people.group.pk).update(is_active=False)


def _priority_slug(incident: Incident) -> str:
    return incident.priority.slug


def _first_level_after(incident: Incident) -> float:
    run = run_of(incident)
    assert run.next_check_at is not None, "a climbing run waits for its next level"
    return (run.next_check_at - run.started_at).total_seconds()


def _run_policy_name(incident: Incident) -> str:
    policy = run_of(incident).policy
    assert policy is not None, "the report started the climb of a policy"
    return policy.name


CHANGES = {
    # change: (how it is made, what the report shows of it, what it shows after the change)
    "matrix": (_matrix, _priority_slug, None),
    "level renamed": (_level_renamed, lambda i: i.priority.label, "Renamed"),
    "SLA target": (_response_target, lambda i: response_clock(i).target_seconds, 777),
    "calendar": (_calendar_always_open, lambda i: response_clock(i).due_at, None),
    "days off": (_days_off, lambda i: response_clock(i).due_at, None),
    "escalation level": (
        _first_level_later,
        _first_level_after,
        4321,
    ),
    "group's escalation policy": (_group_policy, _run_policy_name, "Desk's own"),
    "webhook": (
        _webhook,
        lambda i: Notification.objects.filter(incident=i, kind="incident.created").count(),
        1,
    ),
    "category unrouted": (_category_unrouted, lambda i: (i.state, i.group_id), ("reported", None)),
    "group retired": (_group_retired, lambda i: (i.state, i.group_id), ("reported", None)),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_next_report_sees_a_configuration_change(people, change):
    make, shown, expected = CHANGES[change]
    before = shown(report(people))  # the configuration is now kept
    make(people)
    after = shown(report(people))

    assert after != before
    if expected is not None:
        assert after == expected


def test_a_retired_category_is_refused_at_once(people):
    report(people)
    _category_retired(people)
    with pytest.raises(InvalidInput) as refused:
        report(people)
    assert refused.value.field == "category"
    assert "network" in str(refused.value)


def test_a_rolled_back_change_is_not_kept(people):
    usual = response_clock(report(people)).target_seconds

    with pytest.raises(RuntimeError), transaction.atomic():
        _response_target(people)
        assert response_clock(report(people)).target_seconds == 777
        raise RuntimeError("the admin's change fails")

    assert response_clock(report(people)).target_seconds == usual != 777


@pytest.mark.postgres
def test_the_stamp_is_renewed_by_changes_only_and_per_tenant(people):
    acme, globex = stamp(people.acme), stamp(people.globex)
    people.acme.name = "Acme Corp"
    people.acme.save()  # a save of the tenant row writes every field, and not the stamp
    report(people)  # nor does a report
    assert (stamp(people.acme), stamp(people.globex)) == (acme, globex)

    _response_target(people)
    assert stamp(people.acme) != acme
    assert stamp(people.globex) == globex


def test_each_tenant_reports_on_its_own_configuration(people):
    report(people)  # acme's configuration is kept
    theirs = GroupFactory(tenant=people.globex, name="Their desk", slug="their-desk")
    CategoryFactory(tenant=people.globex, name="Network", slug="network", group=theirs)

    incident = report(people, actor=people.actor(people.charlie, people.globex))

    assert (incident.tenant, incident.group, incident.category.tenant) == (
        people.globex,
        theirs,
        people.globex,
    )
    assert response_clock(incident).policy.tenant == people.globex
    assert run_of(incident).policy.tenant == people.globex


def _waiting_on_a_lock(pid: int) -> bool:
    """From pg_locks, which is read afresh each time: pg_stat_activity is read once per
    transaction, and the caller may be inside one."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND NOT granted)", [pid])
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["rotate the secret", "retire the category"])
def test_an_admin_change_during_a_report_waits_for_it_instead_of_deadlocking(people, change):
    """The report holds the configuration's shared lock and, at commit, checks its foreign
    keys to the webhook endpoint and the category. An admin who locked one of those rows first
    and then waited for the exclusive lock would deadlock with it; the admin waits instead."""
    endpoint = WebhookEndpoint.objects.create(
        tenant=people.acme, url="https://hooks.example.com/desk", events=["incident.created"]
    )
    reported, admin_pid = threading.Event(), []
    outcomes: dict[str, object] = {}

    def reporter() -> None:
        try:
            with transaction.atomic():
                outcomes["report"] = report(people)
                reported.set()
                deadline = time.monotonic() + 10
                while not (admin_pid and _waiting_on_a_lock(admin_pid[0])):
                    assert time.monotonic() < deadline, "the admin never waited"
                    time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a thread hit
            outcomes["report"] = exc
            reported.set()
        finally:
            connections.close_all()

    def admin() -> None:
        try:
            reported.wait(10)
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                admin_pid.append(cursor.fetchone()[0])
            ada = people.actor(people.ada)
            if change == "rotate the secret":
                outcomes["admin"] = webhook_endpoint_rotate_secret(actor=ada, endpoint=endpoint)
            else:
                outcomes["admin"] = category_deactivate(actor=ada, category=people.network)
        except Exception as exc:  # noqa: BLE001
            outcomes["admin"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reporter), threading.Thread(target=admin)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert isinstance(outcomes["report"], Incident), outcomes
    assert not isinstance(outcomes["admin"], Exception), outcomes
    stored = Incident.objects.get(pk=outcomes["report"].pk)
    assert Notification.objects.filter(incident=stored, endpoint=endpoint).count() == 1


def test_what_a_rolled_back_report_read_is_not_kept(people):
    """A report creates its level's missing SLA policy; a second report in the same
    transaction reads that row. If the transaction rolls back, the row is gone: nothing read
    then may be kept for the reports that follow."""
    level = report(people).priority
    SlaPolicy.objects.filter(tenant=people.acme, priority=level).delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        for _ in range(2):
            services.incident_report(
                actor=people.actor(people.alice), title="Inside", category_slug="network"
            )
        raise RuntimeError("the caller's transaction fails")

    clock = response_clock(report(people))
    assert SlaPolicy.objects.filter(pk=clock.policy_id).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_report_arriving_while_a_change_waits_goes_after_the_change(people):
    """Reports in flight hold the configuration shared; an admin's change waits for them. A
    report that arrives while the change waits queues behind it and reads the new settings.
    Were it let through (as a row share lock would), a steady flow of reports could keep the
    admin's save waiting for as long as the flow lasts."""
    policy = policy_of(report(people))
    before = policy.response_seconds
    values = {
        name: getattr(policy, name)
        for name in ("calendar", "resolution_seconds", "warn_percents", "pause_on")
    }
    first_in, second_go = threading.Event(), threading.Event()
    pids: dict[str, int] = {}
    outcomes: dict[str, object] = {}

    def backend(name: str) -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids[name] = cursor.fetchone()[0]

    def until(check, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def in_thread(name: str, work) -> threading.Thread:
        def run() -> None:
            try:
                outcomes[name] = work()
            except Exception as exc:  # noqa: BLE001 - the test reports whatever a thread hit
                outcomes[name] = exc
            finally:
                connections.close_all()

        return threading.Thread(target=run)

    def first_report() -> Incident:
        with transaction.atomic():
            incident = report(people, title="In flight")
            first_in.set()
            until(lambda: "admin" in pids and _waiting_on_a_lock(pids["admin"]))
            second_go.set()
            # Held until the second report is stuck or done: with the lock it waits behind the
            # change; let through, it soon waits for this report's number instead.
            until(lambda: "second" in outcomes or _waiting_on_a_lock(pids.get("second", 0)), 5)
        return incident

    def admin() -> SlaPolicy:
        first_in.wait(10)
        backend("admin")
        return sla_policy_save(
            actor=people.actor(people.ada),
            policy=policy,
            values={**values, "response_seconds": 4321},
        )

    def second_report() -> Incident:
        second_go.wait(10)
        backend("second")
        return report(people, title="Arrived while the change waited")

    threads = [
        in_thread("first", first_report),
        in_thread("admin", admin),
        in_thread("second", second_report),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
    assert response_clock(outcomes["first"]).target_seconds == before != 4321
    second = response_clock(outcomes["second"]).target_seconds
    assert second == 4321, "the report that arrived later went ahead of the change"


def _report_and_close(people, title: str) -> None:
    try:
        report(people, title=title)
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_held_up_by_a_stuck_report_gives_up_and_the_reports_go_on(people, settings):
    """Reports arriving while a change waits queue behind it, so the change's wait is bounded:
    past CONFIG_LOCK_WAIT_MS it is refused as busy, nothing saved, and reports flow again."""
    settings.CONFIG_LOCK_WAIT_MS = 300
    policy = policy_of(report(people))
    before = policy.response_seconds
    values = {
        name: getattr(policy, name)
        for name in ("calendar", "resolution_seconds", "warn_percents", "pause_on")
    }
    with report_in_flight(people.acme.pk):
        with pytest.raises(ConfigBusy) as busy:
            sla_policy_save(
                actor=people.actor(people.ada),
                policy=policy,
                values={**values, "response_seconds": 4321},
            )
        later = threading.Thread(target=_report_and_close, args=(people, "After the refusal"))
        later.start()
        later.join(5)
        went_on = not later.is_alive()
    later.join(10)
    assert "nothing was saved. Try again in a moment." in busy.value.message
    assert went_on, "a report waited behind the refused change"
    assert SlaPolicy.objects.get(pk=policy.pk).response_seconds == before
    assert Incident.objects.filter(title="After the refusal").exists()
