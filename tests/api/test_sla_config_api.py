"""/api/v1/sla/calendars/ and /api/v1/sla/policies/: a tenant's business calendars and SLA
targets as resources, so the desk can be configured as code. Reads for agents, writes for the
admin scope; the same services (and refusals) as the settings pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from escalation.models import BusinessCalendar, CalendarHoliday, SlaPolicy
from escalation.services.defaults import around_the_clock_calendar
from tests.api.helpers import problem
from tests.concurrency import report_in_flight
from tests.escalation.sla_helpers import MONDAY_10, report_high, response, short_targets
from tests.factories import GroupFactory

CALENDARS = "/api/v1/sla/calendars/"
POLICIES = "/api/v1/sla/policies/"
PARIS = {
    "name": "Paris office",
    "time_zone": "Europe/Paris",
    "weekly_hours": {"monday": ["09:00-12:00", "13:00-18:00"], "tuesday": ["09:00-18:00"]},
    "holiday_country": "fr",
    "days_off": [{"date": "2026-12-24", "name": "Christmas Eve"}],
}


def _calendar_rows(tenant) -> list[tuple]:
    """Everything stored about a tenant's calendars, to show that a refusal changed nothing."""
    rows = BusinessCalendar.objects.filter(tenant=tenant).order_by("pk")
    days = CalendarHoliday.objects.filter(tenant=tenant).order_by("pk")
    return [
        *rows.values_list("name", "time_zone", "weekly_hours", "holiday_country", "is_default"),
        *days.values_list("date", "name"),
    ]


# --- calendars ----------------------------------------------------------------------------------


def test_an_admin_key_creates_a_calendar_and_reads_it_back(admin, people):
    created = admin.post(CALENDARS, PARIS, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["Location"] == f"/api/v1/sla/calendars/{body['id']}/"
    assert body["weekly_hours"]["monday"] == ["09:00-12:00", "13:00-18:00"]
    assert body["weekly_hours"]["wednesday"] == []
    assert body["holiday_country"] == "FR" and body["is_default"] is False
    assert body["days_off"] == [{"date": "2026-12-24", "name": "Christmas Eve"}]
    stored = BusinessCalendar.objects.get(tenant=people.acme, name="Paris office")
    assert stored.weekly_hours["0"] == [["09:00", "12:00"], ["13:00", "18:00"]]
    assert admin.get(created["Location"]).json() == body
    names = [row["name"] for row in admin.get(CALENDARS).json()]
    assert names == ["Around the clock", "Business hours", "Paris office"]


def test_a_new_calendar_defaults_to_the_desks_zone_and_office_hours(admin, people):
    body = admin.post(CALENDARS, {"name": "Plain"}, format="json").json()
    assert body["time_zone"] == people.acme.time_zone
    assert body["weekly_hours"]["friday"] == ["09:00-17:00"]
    assert body["weekly_hours"]["saturday"] == []


def test_patch_changes_only_the_fields_it_names(admin, people):
    calendar = admin.post(CALENDARS, PARIS, format="json").json()
    patched = admin.patch(
        f"{CALENDARS}{calendar['id']}/", {"time_zone": "Europe/Berlin"}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json() == {**calendar, "time_zone": "Europe/Berlin"}
    days = admin.patch(f"{CALENDARS}{calendar['id']}/", {"days_off": []}, format="json").json()
    assert days["days_off"] == [] and days["weekly_hours"] == calendar["weekly_hours"]


def test_making_a_calendar_the_default_moves_the_flag(admin, people):
    calendar = admin.post(CALENDARS, {**PARIS, "is_default": True}, format="json").json()
    assert calendar["is_default"] is True
    defaults = BusinessCalendar.objects.filter(tenant=people.acme, is_default=True)
    assert list(defaults.values_list("name", flat=True)) == ["Paris office"]


def test_an_unused_calendar_is_deleted(admin, people):
    calendar = admin.post(CALENDARS, PARIS, format="json").json()
    assert admin.delete(f"{CALENDARS}{calendar['id']}/").status_code == 204
    assert admin.get(f"{CALENDARS}{calendar['id']}/").status_code == 404


def test_a_calendar_in_use_is_kept_with_a_409_that_says_why(admin, people):
    default = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    body = problem(admin.delete(f"{CALENDARS}{default.pk}/"), 409)
    assert "default calendar" in body["detail"]
    # Around the clock holds the critical level's targets on the ITIL scale, and here the
    # high level's once it is pointed there.
    short_targets(people.acme, response=60, resolution=600)
    around = around_the_clock_calendar(people.acme)
    body = problem(admin.delete(f"{CALENDARS}{around.pk}/"), 409)
    assert "SLA targets of High" in body["detail"]
    assert BusinessCalendar.objects.filter(pk__in=[default.pk, around.pk]).count() == 2


def test_a_calendar_clocks_were_counted_in_is_kept(admin, people):
    paris = admin.post(CALENDARS, PARIS, format="json").json()
    admin.patch(f"{POLICIES}high/", {"calendar": paris["id"]}, format="json")
    report_high(people)
    admin.patch(f"{POLICIES}high/", {"calendar": BusinessCalendar.objects.get(
        tenant=people.acme, is_default=True).pk}, format="json")  # fmt: skip
    body = problem(admin.delete(f"{CALENDARS}{paris['id']}/"), 409)
    assert "clocks" in body["detail"]
    assert BusinessCalendar.objects.filter(pk=paris["id"]).exists()


BAD_CALENDARS = [
    ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
    (
        {"weekly_hours": {"monday": ["09:00-12:00", "11:00-14:00"]}},
        "weekly_hours.monday",
        "without overlap",
    ),
    ({"weekly_hours": {"tuesday": ["18:00-09:00"]}}, "weekly_hours.tuesday", "ends after"),
    ({"weekly_hours": {"monday": ["25:00-26:00"]}}, "weekly_hours.monday", "time of day"),
    ({"weekly_hours": {"monday": ["9 to 5"]}}, "weekly_hours.monday", "like 09:00-17:00"),
    ({"weekly_hours": {"funday": ["09:00-17:00"]}}, "weekly_hours.funday", "Not a weekday"),
    ({"weekly_hours": "office hours"}, "weekly_hours", "An object of weekdays"),
    ({"weekly_hours": {}}, "weekly_hours.monday", "some working hours"),
    ({"days_off": [{"date": "2026-02-30", "name": "x"}]}, "days_off[0].date", "Date has"),
    (
        {"days_off": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]},
        "days_off",
        "listed twice",
    ),
    ({"holiday_country": "XX"}, "holiday_country", "No holiday list"),
    ({"holiday_subdivision": "Atlantis"}, "holiday_subdivision", "FR has no region"),
    ({"holiday_country": "", "holiday_subdivision": "BY"}, "holiday_subdivision", "country"),
    ({"name": ""}, "name", "blank"),
    ({"name": "Business hours"}, "name", "Another calendar has this name"),
]


@pytest.mark.parametrize(("change", "field", "words"), BAD_CALENDARS)
def test_bad_calendar_input_names_the_field_and_stores_nothing(admin, people, change, field, words):
    before = _calendar_rows(people.acme)
    body = problem(admin.post(CALENDARS, {**PARIS, **change}, format="json"), 400)
    assert list(body["errors"]) == [field]
    assert words in body["errors"][field][0]
    assert _calendar_rows(people.acme) == before


@pytest.mark.parametrize(("change", "field", "words"), BAD_CALENDARS[:8])
def test_a_bad_change_leaves_the_calendar_as_it_was(admin, people, change, field, words):
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    before = _calendar_rows(people.acme)
    body = problem(admin.patch(f"{CALENDARS}{calendar.pk}/", change, format="json"), 400)
    assert field in body["errors"]
    assert _calendar_rows(people.acme) == before


def test_the_default_calendar_cannot_be_unmade_only_replaced(admin, people):
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    body = problem(
        admin.patch(f"{CALENDARS}{calendar.pk}/", {"is_default": False}, format="json"), 400
    )
    assert "make another one the default" in body["errors"]["is_default"][0]


def test_a_repeated_post_with_an_idempotency_key_creates_one_calendar(admin, people):
    headers = {"HTTP_IDEMPOTENCY_KEY": "cal-1"}
    first = admin.post(CALENDARS, PARIS, format="json", **headers)
    again = admin.post(CALENDARS, PARIS, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert BusinessCalendar.objects.filter(tenant=people.acme, name="Paris office").count() == 1
    other = admin.post(CALENDARS, {**PARIS, "name": "Lyon"}, format="json", **headers)
    assert problem(other, 422)
    assert not BusinessCalendar.objects.filter(name="Lyon").exists()


# --- who may ------------------------------------------------------------------------------------


def test_without_a_key_it_is_401(people):
    assert problem(APIClient().get(CALENDARS), 401)


@pytest.mark.parametrize("scopes", [("read",), ("read", "write")])
def test_keys_without_the_admin_scope_read_but_writing_is_403(api_for, people, scopes):
    client = api_for(scopes)
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    assert client.get(CALENDARS).status_code == 200
    assert client.get(f"{POLICIES}high/").status_code == 200
    before = _calendar_rows(people.acme)
    assert "admin scope" in problem(client.post(CALENDARS, PARIS, format="json"), 403)["detail"]
    assert problem(client.patch(f"{CALENDARS}{calendar.pk}/", {"name": "x"}, format="json"), 403)
    assert problem(client.delete(f"{CALENDARS}{calendar.pk}/"), 403)
    assert problem(client.put(f"{POLICIES}high/", {}, format="json"), 403)
    assert _calendar_rows(people.acme) == before


def test_charlie_gets_404_for_acmes_calendars(api_for, people):
    charlie_admin = api_for(("read", "write", "admin"), tenant=people.globex)
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    url = f"{CALENDARS}{calendar.pk}/"
    assert problem(charlie_admin.get(url), 404)
    assert problem(charlie_admin.patch(url, {"name": "Mine"}, format="json"), 404)
    assert problem(charlie_admin.delete(url), 404)
    names = {row["name"] for row in charlie_admin.get(CALENDARS).json()}
    assert names == {"Around the clock", "Business hours"}  # globex's own
    assert all(row["id"] != calendar.pk for row in charlie_admin.get(CALENDARS).json())
    # Nor can a policy of globex point at acme's calendar.
    moved = charlie_admin.patch(f"{POLICIES}high/", {"calendar": calendar.pk}, format="json")
    assert list(problem(moved, 400)["errors"]) == ["calendar"]
    calendar.refresh_from_db()
    assert calendar.name == "Business hours"


def test_sessions_follow_the_roles(people, login):
    client = login(people.alice)
    assert client.get(CALENDARS, HTTP_X_TENANT="acme").status_code == 200
    refused = client.post(CALENDARS, PARIS, content_type="application/json", HTTP_X_TENANT="acme")
    assert problem(refused, 403)
    client = login(people.rita)
    assert problem(client.get(CALENDARS, HTTP_X_TENANT="acme"), 403)
    client = login(people.ada)
    made = client.post(CALENDARS, PARIS, content_type="application/json", HTTP_X_TENANT="acme")
    assert made.status_code == 201, made.content


# --- SLA targets --------------------------------------------------------------------------------


def test_the_policies_list_one_per_priority_level_most_urgent_first(api, people):
    rows = api.get(POLICIES).json()
    assert [(r["priority"], r["priority_rank"]) for r in rows] == [
        ("high", 1),
        ("medium", 2),
        ("low", 3),
    ]
    high = rows[0]
    assert (high["response_seconds"], high["resolution_seconds"]) == (1800, 8 * 3600)
    assert high["warn_percents"] == [50, 80] and high["pause_on"] == ["awaiting_caller"]
    assert api.get(f"{POLICIES}high/").json() == high


def test_put_sets_every_target_and_patch_only_what_it_names(admin, people):
    around = around_the_clock_calendar(people.acme)
    body = {
        "calendar": around.pk,
        "response_seconds": 90,
        "resolution_seconds": 7200,
        "warn_percents": [25, 75],
        "pause_on": ["awaiting_caller", "awaiting_vendor"],
    }
    put = admin.put(f"{POLICIES}high/", body, format="json")
    assert put.status_code == 200, put.content
    assert put.json() == {**body, "priority": "high", "priority_label": "High", "priority_rank": 1}
    patched = admin.patch(f"{POLICIES}high/", {"warn_percents": [90]}, format="json").json()
    assert patched == {**put.json(), "warn_percents": [90]}
    stored = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high")
    assert (stored.response_seconds, stored.warn_percents) == (90, [90])


def test_a_put_leaving_out_warnings_and_pauses_restores_their_defaults(admin, people):
    admin.patch(f"{POLICIES}low/", {"warn_percents": [10], "pause_on": []}, format="json")
    calendar = BusinessCalendar.objects.get(tenant=people.acme, is_default=True)
    body = {"calendar": calendar.pk, "response_seconds": 60, "resolution_seconds": 120}
    put = admin.put(f"{POLICIES}low/", body, format="json").json()
    assert (put["warn_percents"], put["pause_on"]) == ([50, 80], ["awaiting_caller"])


def test_a_new_response_target_sets_the_deadline_of_the_next_incident(admin, people):
    around = around_the_clock_calendar(people.acme)
    body = {"calendar": around.pk, "response_seconds": 125, "resolution_seconds": 3600}
    assert admin.put(f"{POLICIES}high/", body, format="json").status_code == 200
    with time_machine.travel(MONDAY_10, tick=False):
        incident = report_high(people)
    assert response(incident).due_at == MONDAY_10 + timedelta(seconds=125)


def test_a_day_off_added_over_the_api_moves_the_deadline(admin, people):
    """Office hours Monday to Friday 9-17: an 8-hour target set on Monday 10:00 falls due on
    Tuesday 10:00, or on Wednesday 10:00 once Tuesday is a day off."""
    office = admin.post(
        CALENDARS,
        {"name": "Office", "time_zone": "UTC", "weekly_hours": {
            d: ["09:00-17:00"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}},
        format="json",
    ).json()  # fmt: skip
    body = {"calendar": office["id"], "response_seconds": 8 * 3600, "resolution_seconds": 86400}
    admin.put(f"{POLICIES}high/", body, format="json")
    with time_machine.travel(MONDAY_10, tick=False):
        before = report_high(people)
    tuesday = (MONDAY_10 + timedelta(days=1)).date()
    day_off = {"days_off": [{"date": tuesday.isoformat(), "name": "Office move"}]}
    assert admin.patch(f"{CALENDARS}{office['id']}/", day_off, format="json").status_code == 200
    with time_machine.travel(MONDAY_10, tick=False):
        after = report_high(people)
    assert response(before).due_at == MONDAY_10 + timedelta(days=1)
    assert response(after).due_at == MONDAY_10 + timedelta(days=2)
    assert tuesday == date(2026, 12, 1)


BAD_POLICIES = [
    ({"response_seconds": -5}, "response_seconds"),
    ({"response_seconds": 0}, "response_seconds"),
    ({"resolution_seconds": 400 * 86400}, "resolution_seconds"),
    ({"resolution_seconds": "soon"}, "resolution_seconds"),
    ({"warn_percents": [50, 150]}, "warn_percents[1]"),
    ({"warn_percents": [80, 50]}, "warn_percents"),
    ({"warn_percents": [50, 50]}, "warn_percents"),
    ({"pause_on": ["lunch"]}, "pause_on[0]"),
    ({"calendar": 2**31 - 1}, "calendar"),
    ({"calendar": 2**40}, "calendar"),
]


@pytest.mark.parametrize(("change", "field"), BAD_POLICIES)
def test_bad_targets_name_the_field_and_keep_the_old_ones(admin, people, change, field):
    before = list(SlaPolicy.objects.filter(tenant=people.acme).values().order_by("pk"))
    body = problem(admin.patch(f"{POLICIES}high/", change, format="json"), 400)
    assert list(body["errors"]) == [field]
    assert list(SlaPolicy.objects.filter(tenant=people.acme).values().order_by("pk")) == before


def test_a_put_must_name_the_calendar_and_both_targets(admin, people):
    body = problem(admin.put(f"{POLICIES}high/", {"warn_percents": [50]}, format="json"), 400)
    assert set(body["errors"]) == {"calendar", "response_seconds", "resolution_seconds"}


def test_an_unknown_priority_is_404(admin, people):
    assert problem(admin.get(f"{POLICIES}critical/"), 404)
    assert problem(admin.patch(f"{POLICIES}critical/", {"response_seconds": 60}, format="json"),
                    404)  # fmt: skip


def test_the_lists_take_the_same_queries_however_long(admin, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        admin.post(CALENDARS, {**PARIS, "name": f"Office {n}"}, format="json")
        admin.post(
            "/api/v1/escalation-policies/",
            {"name": f"Team {n}", "group": GroupFactory(tenant=people.acme).slug,
             "levels": [{"after_seconds": 60, "notify": "user", "user": "max@acme.test"}] * 3},
            format="json",
        )  # fmt: skip

    def queries() -> tuple[int, ...]:
        counts = []
        for url in (CALENDARS, "/api/v1/escalation-policies/", POLICIES):
            with CaptureQueriesContext(connection) as ctx:
                assert admin.get(url).status_code == 200
            counts.append(len(ctx.captured_queries))
        return tuple(counts)

    add(0)
    few = queries()
    for n in range(1, 6):
        add(n)
    assert queries() == few


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_change_that_cannot_wait_for_the_reports_in_flight_is_a_503_to_retry(
    people, admin, settings
):
    settings.CONFIG_LOCK_WAIT_MS = 200
    before = SlaPolicy.objects.get(tenant=people.acme, priority__slug="high").response_seconds
    with report_in_flight(people.acme.pk):
        answer = admin.patch(f"{POLICIES}high/", {"response_seconds": 4321}, format="json")
    body = problem(answer, 503)
    assert body["type"].endswith("/busy") and "nothing was saved" in body["detail"]
    assert answer["Retry-After"] == "1"
    assert SlaPolicy.objects.get(tenant=people.acme, priority__slug="high").response_seconds == (
        before
    )
    again = admin.patch(f"{POLICIES}high/", {"response_seconds": 4321}, format="json")
    assert again.status_code == 200 and again.json()["response_seconds"] == 4321
