"""The on-call pages: the schedules with who is on call now, a schedule's calendar, adding an
override (a refusal keeps what was typed), and the wall between tenants."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from oncall.models import Override
from tests.oncall.helpers import daily_schedule


def _detail(people, schedule, slug="acme") -> str:
    return reverse("oncall-schedule-detail", args=[slug, schedule.pk])


def test_the_list_shows_who_is_on_call_now_in_each_schedule(people, login):
    daily_schedule(people, people.alice, name="Network")
    page = login(people.bob).get(reverse("oncall-schedule-list", args=["acme"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Network" in html and "Alice Agent" in html


def test_the_schedule_page_shows_a_calendar_of_the_next_two_weeks(people, login):
    schedule = daily_schedule(people, people.alice, people.bob, tz="America/New_York")
    page = login(people.alice).get(_detail(people, schedule))
    html = page.content.decode()
    assert html.count("<tr data-day=") == 14
    assert "On call now: " in html and "All times in America/New_York" in html
    assert "Bob Agent (Primary)" in html
    assert "/oncall/ical/" in html  # the person's own feed


def test_adding_an_override_on_the_page_changes_who_is_on_call_now(people, login):
    schedule = daily_schedule(people, people.alice, tz="Europe/Berlin")
    client = login(people.bob)
    local = timezone.now().astimezone(ZoneInfo("Europe/Berlin"))
    form = {
        "user": people.bob.pk,
        "note": "swap",
        "starts_at": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (local + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
    }
    answer = client.post(reverse("oncall-override-add", args=["acme", schedule.pk]), form)
    assert answer.status_code == 302
    override = Override.objects.get(schedule=schedule)
    # The form's times are the schedule's local times.
    assert abs(override.ends_at - (timezone.now() + timedelta(hours=3))) < timedelta(minutes=2)
    html = client.get(_detail(people, schedule)).content.decode()
    assert "On call now: Bob Agent" in html and "(override)" in html


def test_an_override_that_ends_first_is_refused_and_keeps_what_was_typed(people, login):
    schedule = daily_schedule(people, people.alice)
    form = {
        "user": people.bob.pk,
        "starts_at": "2026-12-24T10:00",
        "ends_at": "2026-12-24T09:00",
        "note": "christmas swap",
    }
    answer = login(people.bob).post(
        reverse("oncall-override-add", args=["acme", schedule.pk]), form
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "The override must end after it starts." in html
    assert "christmas swap" in html and "2026-12-24T09:00" in html
    assert not Override.objects.exists()


def test_a_layer_with_someone_outside_the_staff_is_refused_by_address(people, login):
    schedule = daily_schedule(people, people.alice)
    form = {
        "name": "Nights",
        "members": "alice@acme.test\ncharlie@globex.test",
        "rotation": "weekly",
        "rotation_start": "2026-12-07",
        "handoff_time": "18:00",
    }
    answer = login(people.ada).post(reverse("oncall-layer-add", args=["acme", schedule.pk]), form)
    assert answer.status_code == 400
    assert "Not one of the desk&#x27;s staff: charlie@globex.test." in answer.content.decode()


def test_charlie_gets_404_for_acmes_schedule_and_its_forms(people, login):
    schedule = daily_schedule(people, people.alice)
    client = login(people.charlie)
    assert client.get(_detail(people, schedule)).status_code == 404
    assert client.get(_detail(people, schedule, slug="globex")).status_code == 404
    add = reverse("oncall-override-add", args=["globex", schedule.pk])
    assert client.post(add, {"user": people.charlie.pk}).status_code == 404


def test_a_requester_sees_no_schedules(people, login):
    schedule = daily_schedule(people, people.alice)
    client = login(people.rita)
    assert client.get(reverse("oncall-schedule-list", args=["acme"])).status_code == 404
    assert client.get(_detail(people, schedule)).status_code == 404


def test_the_list_reads_a_few_queries_per_schedule(people, login, django_assert_max_num_queries):
    for name in ("Network", "Apps", "Databases"):
        daily_schedule(people, people.alice, people.bob, name=name)
    client = login(people.bob)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("oncall-schedule-list", args=["acme"])).status_code == 200


def _override(people, schedule, who, by):
    from oncall import services

    now = timezone.now()
    return services.override_add(
        actor=people.actor(by), schedule=schedule, user_id=who.pk,
        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2),
    )  # fmt: skip


def test_removing_an_override_on_the_page_says_so_and_a_stranger_to_it_is_refused(people, login):
    schedule = daily_schedule(people, people.alice)
    override = _override(people, schedule, people.bob, people.bob)
    url = reverse("oncall-override-remove", args=["acme", schedule.pk, override.pk])
    alice = login(people.alice)  # neither added nor covers it, and not a manager
    refused = alice.post(url, follow=True).content.decode()
    assert "Only a manager, or whoever added or covers it" in refused
    assert Override.objects.filter(pk=override.pk).exists()
    done = login(people.bob).post(url, follow=True).content.decode()
    assert "The override is removed." in done
    assert not Override.objects.filter(pk=override.pk).exists()


def test_removing_a_layer_on_the_page_says_so(people, login):
    from oncall.models import Layer

    schedule = daily_schedule(people, people.alice)
    layer = Layer.objects.get(schedule=schedule)
    url = reverse("oncall-layer-remove", args=["acme", schedule.pk, layer.pk])
    assert "The layer is removed." in login(people.max).post(url, follow=True).content.decode()
    assert not Layer.objects.filter(pk=layer.pk).exists()
