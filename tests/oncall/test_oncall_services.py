"""Making and changing schedules through the services: checked, audited, tenant-bound."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from escalation.models import EscalationLevel, NotifyKind
from oncall import services
from oncall.selectors import on_call
from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import AuditRecord
from tests.escalation.sla_helpers import fast_escalation
from tests.oncall.helpers import daily_schedule, empty_schedule


def test_creating_a_schedule_and_a_layer_is_audited_with_their_words(people):
    schedule = daily_schedule(people, people.alice, people.bob, tz="Europe/Berlin")
    records = AuditRecord.objects.filter(tenant=people.acme).order_by("id")
    actions = [r.action for r in records]
    assert actions[-2:] == ["oncall_schedule.created", "oncall_layer.added"]
    assert records.last().after["members"] == ["alice@acme.test", "bob@acme.test"]
    assert schedule.time_zone == "Europe/Berlin"


def test_an_agent_may_not_create_a_schedule(people):
    with pytest.raises(NotAllowed):
        services.schedule_save(
            actor=people.actor(people.alice), schedule=None, name="Mine", time_zone="UTC"
        )


def test_a_time_zone_that_does_not_exist_is_refused_with_its_name(people):
    with pytest.raises(InvalidInput, match="'Mars/Olympus' is not a time zone") as caught:
        services.schedule_save(
            actor=people.actor(people.ada), schedule=None, name="X", time_zone="Mars/Olympus"
        )
    assert caught.value.field == "time_zone"


@pytest.mark.parametrize("who", ["rita", "charlie"])
def test_a_layer_takes_only_the_desks_staff(people, who):
    schedule = empty_schedule(people)
    data = services.LayerInput(
        name="Primary",
        members=[getattr(people, who).pk],
        rotation="weekly",
        rotation_start=timezone.now().date(),
        handoff_time=time(9),
    )
    with pytest.raises(InvalidInput, match="agents, managers or admins"):
        services.layer_add(actor=people.actor(people.ada), schedule=schedule, data=data)


def test_a_custom_rotation_shorter_than_two_hours_is_refused(people):
    schedule = empty_schedule(people)
    data = services.LayerInput(
        name="Quick",
        members=[people.alice.pk],
        rotation="custom",
        shift_hours=1,
        rotation_start=timezone.now().date(),
        handoff_time=time(9),
    )
    with pytest.raises(InvalidInput, match="2 to"):
        services.layer_add(actor=people.actor(people.ada), schedule=schedule, data=data)


def test_an_agent_covers_a_shift_with_an_override_and_is_on_call_then(people):
    schedule = daily_schedule(people, people.alice)
    now = timezone.now()
    services.override_add(
        actor=people.actor(people.bob),
        schedule=schedule,
        user_id=people.bob.pk,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
    )
    found = on_call(schedule)
    assert found.user == people.bob and found.override
    record = AuditRecord.objects.filter(tenant=people.acme).latest("id")
    assert record.action == "oncall_override.added" and record.after["who"] == "bob@acme.test"


def test_an_override_that_ends_before_it_starts_is_refused(people):
    schedule = daily_schedule(people, people.alice)
    now = timezone.now()
    with pytest.raises(InvalidInput, match="end after it starts"):
        services.override_add(
            actor=people.actor(people.bob),
            schedule=schedule,
            user_id=people.bob.pk,
            starts_at=now,
            ends_at=now,
        )


def test_nobody_is_on_call_in_a_schedule_without_layers(people):
    found = on_call(empty_schedule(people, fallback=people.max))
    assert found.user is None


def test_a_schedule_an_escalation_level_pages_cannot_be_deleted(people):
    schedule = daily_schedule(people, people.alice)
    fast_escalation(people.acme, (60, NotifyKind.SCHEDULE, None))
    EscalationLevel.objects.filter(tenant=people.acme).update(schedule=schedule)
    with pytest.raises(InvalidInput, match="An escalation policy pages this schedule"):
        services.schedule_delete(actor=people.actor(people.ada), schedule=schedule)


def test_a_nights_layer_on_top_covers_the_nights_and_the_day_layer_the_rest(people):
    schedule = daily_schedule(people, people.alice, tz="Europe/Berlin")
    services.layer_add(
        actor=people.actor(people.ada),
        schedule=schedule,
        data=services.LayerInput(
            name="Nights",
            members=[people.bob.pk],
            rotation="weekly",
            rotation_start=timezone.now().date(),
            handoff_time=time(9),
            restrict_days=[0, 1, 2, 3, 4],
            restrict_start=time(22),
            restrict_end=time(6),
        ),
    )
    berlin = ZoneInfo("Europe/Berlin")
    monday = timezone.now().astimezone(berlin).date() + timedelta(days=14)
    monday -= timedelta(days=monday.weekday())

    def at(day: int, hour: int) -> datetime:
        return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=berlin)

    assert on_call(schedule, at(0, 23)).user == people.bob  # Monday night
    assert on_call(schedule, at(1, 5)).user == people.bob  # still Monday's night
    assert on_call(schedule, at(1, 12)).user == people.alice  # Tuesday noon
    assert on_call(schedule, at(5, 23)).user == people.alice  # Saturday night: no nights layer
    assert on_call(schedule, at(5, 23)).layer == "Primary"
