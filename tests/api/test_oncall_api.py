"""Who is on call, through the API: the schedules with who is on call now, and one schedule
at a given instant; another tenant's schedule is a 404."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from escalation.models import EscalationPolicy
from oncall import services
from oncall.models import Schedule
from tests.api.helpers import problem
from tests.oncall.helpers import daily_schedule, empty_schedule


def test_the_schedules_say_who_is_on_call_now(people, api):
    daily_schedule(people, people.alice, name="Network", tz="Europe/Berlin")
    empty_schedule(people, name="Managers", fallback=people.max)
    body = api.get("/api/v1/oncall/schedules/").json()
    by_name = {row["name"]: row for row in body}
    assert by_name["Network"]["on_call_now"]["person"]["email"] == "alice@acme.test"
    assert by_name["Network"]["on_call_now"]["layer"] == "Primary"
    assert by_name["Network"]["time_zone"] == "Europe/Berlin"
    assert by_name["Managers"]["on_call_now"]["person"] is None
    assert by_name["Managers"]["fallback"]["email"] == "max@acme.test"


def test_on_call_at_an_instant_follows_the_rotation_and_overrides(people, api):
    schedule = daily_schedule(people, people.alice, people.bob)
    url = f"/api/v1/oncall/schedules/{schedule.pk}/on-call/"
    now = timezone.now()
    tomorrow = (now + timedelta(days=1)).isoformat()
    assert api.get(url, {"at": tomorrow}).json()["person"]["email"] == "bob@acme.test"
    services.override_add(
        actor=people.actor(people.alice),
        schedule=schedule,
        user_id=people.alice.pk,
        starts_at=now + timedelta(hours=20),
        ends_at=now + timedelta(hours=30),
    )
    body = api.get(url, {"at": tomorrow}).json()
    assert body["person"]["email"] == "alice@acme.test" and body["override"] is True


def test_a_time_without_its_offset_is_refused(people, api):
    schedule = daily_schedule(people, people.alice)
    answer = api.get(f"/api/v1/oncall/schedules/{schedule.pk}/on-call/", {"at": "2026-12-24T10:00"})
    assert "offset" in str(problem(answer, 400))


def test_another_tenants_schedule_is_a_404(people, api_for):
    schedule = daily_schedule(people, people.alice)
    globex = api_for(tenant=people.globex)
    problem(globex.get(f"/api/v1/oncall/schedules/{schedule.pk}/on-call/"), 404)
    assert globex.get("/api/v1/oncall/schedules/").json() == []


def test_an_escalation_level_names_a_schedule_of_the_desk_and_no_other(people, admin):
    network = daily_schedule(people, people.alice, name="Network")
    body = {
        "name": "On call first",
        "group": None,
        "repeat_count": 0,
        "calendar": None,
        "is_active": True,
        "levels": [
            {"after_seconds": 300, "notify": "schedule", "schedule": network.pk},
            {"after_seconds": 600, "notify": "manager"},
        ],
    }
    EscalationPolicy.objects.filter(tenant=people.acme).delete()
    answer = admin.post("/api/v1/escalation-policies/", body, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["levels"][0]["schedule"] == network.pk
    body["name"] = "Elsewhere"
    theirs = Schedule.objects.create(tenant=people.globex, name="Globex nights")
    body["levels"][0]["schedule"] = theirs.pk
    EscalationPolicy.objects.filter(tenant=people.acme).delete()
    refused = problem(admin.post("/api/v1/escalation-policies/", body, format="json"), 400)
    assert "Choose one of the desk's on-call schedules." in str(refused)
