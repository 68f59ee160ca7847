"""The audit log of calendars, SLA targets, escalation policies and webhook endpoints (issue 17):
one record per change, only what changed, in words; never a webhook's secret."""

from __future__ import annotations

from datetime import date

import pytest

from escalation.models import BusinessCalendar, EscalationPolicy, SlaPolicy
from escalation.services import webhooks
from escalation.services.config import (
    InUse,
    LevelInput,
    calendar_delete,
    calendar_save,
    escalation_policy_delete,
    escalation_policy_save,
    sla_policy_save,
)
from tenancy.audit import changes_in_words
from tenancy.errors import InvalidInput, NotAllowed
from tests.audit_support import one

pytestmark = pytest.mark.django_db
HOOK = "http://127.0.0.1:9/hook"  # never called: these tests only save endpoints


def business_hours(people) -> BusinessCalendar:
    return BusinessCalendar.objects.get(tenant=people.acme, is_default=True)


def sla_values(policy: SlaPolicy, **changes):
    values = {
        "calendar": policy.calendar,
        "response_seconds": policy.response_seconds,
        "resolution_seconds": policy.resolution_seconds,
        "warn_percents": policy.warn_percents,
        "pause_on": policy.pause_on,
    }
    return {**values, **changes}


# --- calendars ----------------------------------------------------------------------------


def test_a_calendar_change_records_the_hours_and_days_off_that_changed(people, audit):
    calendar = business_hours(people)
    hours = {**calendar.weekly_hours, "0": [["08:00", "12:00"], ["13:00", "17:00"]]}
    calendar_save(
        actor=people.actor(people.ada),
        calendar=calendar,
        values={"weekly_hours": hours},
        days_off=[(date(2026, 12, 24), "Christmas Eve")],
    )
    record = one(audit, "calendar.changed")
    assert record.target_label == calendar.name
    assert record.before == {"Monday hours": "09:00–17:00", "days_off": []}
    assert record.after == {
        "Monday hours": "08:00–12:00, 13:00–17:00",
        "days_off": ["2026-12-24 Christmas Eve"],
    }
    assert "Days off: — → 2026-12-24 Christmas Eve" in changes_in_words(record)


def test_a_new_calendar_and_its_deletion_are_recorded(people, audit):
    ada = people.actor(people.ada)
    calendar = calendar_save(
        actor=ada, calendar=None, values={"name": "Weekend cover", "time_zone": "UTC"}, days_off=[]
    )
    calendar_delete(actor=ada, calendar=calendar)
    made, gone = audit()
    assert (made.action, made.after["name"], made.after["Monday hours"]) == (
        "calendar.created",
        "Weekend cover",
        "09:00–17:00",
    )
    assert (gone.action, gone.before, gone.target_id) == (
        "calendar.deleted",
        {"name": "Weekend cover"},
        str(made.target_id),
    )


def test_a_refused_calendar_change_writes_no_record(people, audit):
    ada = people.actor(people.ada)
    with pytest.raises(InvalidInput):
        calendar_save(
            actor=ada,
            calendar=business_hours(people),
            values={"weekly_hours": {"0": [["17:00", "09:00"]]}},
            days_off=[],
        )
    with pytest.raises(InUse):
        calendar_delete(actor=ada, calendar=business_hours(people))
    assert audit() == []


# --- SLA targets --------------------------------------------------------------------------


def test_an_sla_change_records_the_targets_that_changed(people, audit):
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    sla_policy_save(
        actor=people.actor(people.ada),
        policy=policy,
        values=sla_values(policy, response_seconds=15 * 60, warn_percents=[50, 75]),
    )
    record = one(audit, "sla_policy.changed")
    assert record.target_label == "SLA targets of High"
    assert record.before == {"High response": "30 min", "warnings": "50%, 80%"}
    assert record.after == {"High response": "15 min", "warnings": "50%, 75%"}
    assert "High response: 30 min → 15 min" in changes_in_words(record)


def test_a_refused_sla_change_writes_no_record(people, audit):
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    with pytest.raises(InvalidInput):
        sla_policy_save(
            actor=people.actor(people.ada), policy=policy, values=sla_values(policy, pause_on=["x"])
        )
    with pytest.raises(NotAllowed):
        sla_policy_save(actor=people.actor(people.max), policy=policy, values=sla_values(policy))
    assert audit() == []


# --- escalation policies ------------------------------------------------------------------


def test_an_escalation_policy_is_recorded_when_made_changed_and_deleted(people, audit):
    ada = people.actor(people.ada)
    values = {"name": "Desk team", "group": people.group, "repeat_count": 0, "calendar": None}
    policy = escalation_policy_save(
        actor=ada, policy=None, values=values, levels=[LevelInput(600, "group_lead")]
    )
    escalation_policy_save(
        actor=ada,
        policy=policy,
        values={**values, "repeat_count": 2},
        levels=[LevelInput(600, "group_lead"), LevelInput(1800, "user", people.max.pk)],
    )
    escalation_policy_delete(actor=ada, policy=policy)
    made, changed, gone = audit()
    assert (made.action, made.after["group"], made.after["levels"]) == (
        "escalation_policy.created",
        "Service Desk",
        ["after 10 min: The group's lead"],
    )
    assert (changed.action, changed.before, changed.after) == (
        "escalation_policy.changed",
        {"repeat": 0, "levels": ["after 10 min: The group's lead"]},
        {
            "repeat": 2,
            "levels": ["after 10 min: The group's lead", "after 30 min: Max Manager"],
        },
    )
    assert (gone.action, gone.target_label, gone.after) == (
        "escalation_policy.deleted",
        "Desk team",
        {},
    )
    assert not EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_a_refused_escalation_policy_writes_no_record(people, audit):
    with pytest.raises(InvalidInput):
        escalation_policy_save(
            actor=people.actor(people.ada),
            policy=None,
            values={"name": "Empty", "group": people.group, "repeat_count": 0},
            levels=[],
        )
    assert audit() == []


# --- webhook endpoints --------------------------------------------------------------------


def test_webhook_changes_are_recorded_and_the_secret_never_is(people, audit):
    ada = people.actor(people.ada)
    endpoint = webhooks.webhook_endpoint_create(
        actor=ada, url=HOOK, events=["incident.created"], description="Chat"
    )
    webhooks.webhook_endpoint_update(
        actor=ada, endpoint=endpoint, url=HOOK, events=["sla.breached"], description="Chat"
    )
    webhooks.webhook_endpoint_set_active(actor=ada, endpoint=endpoint, active=False)
    rotated = webhooks.webhook_endpoint_rotate_secret(actor=ada, endpoint=endpoint)
    webhooks.webhook_endpoint_delete(actor=ada, endpoint=rotated)
    made, changed, disabled, rotation, gone = audit()
    assert (made.action, made.target_label, made.after["events"]) == (
        "webhook.created",
        "Chat",
        ["Incident created"],
    )
    assert (changed.action, changed.before, changed.after) == (
        "webhook.changed",
        {"events": ["Incident created"]},
        {"events": ["SLA breached"]},
    )
    assert (disabled.action, disabled.after) == ("webhook.disabled", {"active": False})
    assert (rotation.action, rotation.before, rotation.after) == (
        "webhook.secret_rotated",
        {},
        {"secret": "rotated"},
    )
    assert (gone.action, gone.target_id) == ("webhook.deleted", str(endpoint.pk))
    for record in (made, changed, disabled, rotation, gone):
        text = f"{record.before} {record.after}"
        assert endpoint.secret not in text and rotated.secret not in text


def test_a_refused_webhook_writes_no_record(people, audit):
    with pytest.raises(InvalidInput):
        webhooks.webhook_endpoint_create(actor=people.actor(people.ada), url="ftp://x", events=[])
    with pytest.raises(NotAllowed):
        webhooks.webhook_endpoint_create(
            actor=people.actor(people.max), url=HOOK, events=["incident.created"]
        )
    assert audit() == []


def test_charlies_tenant_gets_none_of_acmes_records(people, audit):
    ada = people.actor(people.ada)
    webhooks.webhook_endpoint_create(actor=ada, url=HOOK, events=["incident.created"])
    policy = SlaPolicy.objects.get(tenant=people.acme, priority__slug="low")
    sla_policy_save(actor=ada, policy=policy, values=sla_values(policy, response_seconds=60))
    assert len(audit()) == 2
    assert audit(people.globex) == []
