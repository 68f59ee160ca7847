"""/api/v1/escalation-policies/: ordered levels ("after N seconds without acknowledgement,
notify X"), a repeat count, optionally per group; the settings page's policies as a resource."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from escalation.models import EscalationLevel, EscalationPolicy, EscalationRun
from escalation.services.defaults import around_the_clock_calendar
from tests.api.helpers import problem
from tests.escalation.sla_helpers import MONDAY_10, report_high

URL = "/api/v1/escalation-policies/"


def _network_nights(people, **changes) -> dict:
    return {
        "name": "Network nights",
        "group": people.group.slug,
        "repeat_count": 1,
        "levels": [
            {"after_seconds": 45, "notify": "assignee"},
            {"after_seconds": 600, "notify": "user", "user": "Max@acme.test"},
        ],
        **changes,
    }


def _stored(tenant) -> list[tuple]:
    policies = EscalationPolicy.objects.filter(tenant=tenant).order_by("pk")
    levels = EscalationLevel.objects.filter(tenant=tenant).order_by("pk")
    return [
        *policies.values_list("name", "group", "repeat_count", "calendar", "is_active"),
        *levels.values_list("policy", "position", "after_seconds", "notify", "user"),
    ]


def test_an_admin_key_writes_a_policy_for_a_group(admin, people):
    created = admin.post(URL, _network_nights(people), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert created["Location"] == f"{URL}{body['id']}/"
    assert body == {
        "id": body["id"],
        "name": "Network nights",
        "group": "service-desk",
        "repeat_count": 1,
        "calendar": None,
        "is_active": True,
        "levels": [
            {
                "position": 1,
                "after_seconds": 45,
                "notify": "assignee",
                "user": None,
                "schedule": None,
            },
            {
                "position": 2,
                "after_seconds": 600,
                "notify": "user",
                "user": "max@acme.test",
                "schedule": None,
            },
        ],
    }
    policy = EscalationPolicy.objects.get(tenant=people.acme, group=people.group)
    assert list(policy.levels.values_list("position", "after_seconds", "notify", "user")) == [
        (1, 45, "assignee", None),
        (2, 600, "user", people.max.pk),
    ]
    assert admin.get(created["Location"]).json() == body
    names = [row["name"] for row in admin.get(URL).json()]
    assert names == ["Desk-wide", "Network nights"]


def test_an_agent_key_reads_the_policies(api, people):
    [desk] = api.get(URL).json()
    assert desk["group"] is None
    assert [(lvl["after_seconds"], lvl["notify"]) for lvl in desk["levels"]] == [
        (900, "group_lead"),
        (1800, "manager"),
    ]


def test_put_replaces_the_levels_and_patch_keeps_what_it_does_not_name(admin, people):
    policy = admin.post(URL, _network_nights(people), format="json").json()
    url = f"{URL}{policy['id']}/"
    around = around_the_clock_calendar(people.acme)
    put = admin.put(
        url,
        {"name": "Network", "group": "service-desk", "calendar": around.pk,
         "levels": [{"after_seconds": 30, "notify": "group"}]},
        format="json",
    )  # fmt: skip
    assert put.status_code == 200, put.content
    assert put.json()["repeat_count"] == 0 and put.json()["calendar"] == around.pk
    assert put.json()["levels"] == [
        {"position": 1, "after_seconds": 30, "notify": "group", "user": None, "schedule": None}
    ]
    patched = admin.patch(url, {"is_active": False}, format="json").json()
    assert patched == {**put.json(), "is_active": False}
    assert EscalationLevel.objects.filter(policy_id=policy["id"]).count() == 1


def test_delete_removes_the_policy_and_its_levels(admin, people):
    policy = admin.post(URL, _network_nights(people), format="json").json()
    assert admin.delete(f"{URL}{policy['id']}/").status_code == 204
    assert problem(admin.get(f"{URL}{policy['id']}/"), 404)
    assert not EscalationLevel.objects.filter(policy_id=policy["id"]).exists()


def test_a_group_policy_written_over_the_api_drives_the_next_climb(admin, people):
    """Escalating to the group starts the climb on the group's policy: its first level falls
    due after the wait the API set."""
    admin.post(URL, _network_nights(people), format="json")
    with time_machine.travel(MONDAY_10, tick=False):
        incident = report_high(people)  # routed to the group by the network category
    run = EscalationRun.objects.get(incident=incident)
    assert run.policy.name == "Network nights"
    assert run.next_check_at == MONDAY_10 + timedelta(seconds=45)


def _user_refused(people, email: str) -> dict:
    levels = [{"after_seconds": 60, "notify": "user", "user": email}]
    return _network_nights(people, levels=levels)


BAD = [
    (lambda p: _user_refused(p, "rita@acme.test"), "levels[0].user", "Not an active agent"),
    (lambda p: _user_refused(p, "charlie@globex.test"), "levels[0].user", "Not an active agent"),
    (lambda p: _user_refused(p, "nobody@nowhere.test"), "levels[0].user", "Not an active agent"),
    (lambda p: _user_refused(p, "not an email"), "levels[0].user", "valid email"),
    (
        lambda p: _network_nights(p, levels=[{"after_seconds": 60, "notify": "user"}]),
        "levels[0].user",
        "Name the person",
    ),
    (
        lambda p: _network_nights(
            p, levels=[{"after_seconds": 60, "notify": "group", "user": "max@acme.test"}]
        ),
        "levels[0].user",
        "Only a level that notifies a named person",
    ),
    (
        lambda p: _network_nights(p, levels=[{"after_seconds": 60, "notify": "everyone"}]),
        "levels[0].notify",
        "not a valid choice",
    ),
    (
        lambda p: _network_nights(
            p,
            levels=[
                {"after_seconds": 60, "notify": "group"},
                {"after_seconds": 0, "notify": "manager"},
            ],
        ),
        "levels[1].after_seconds",
        "greater than or equal to 1",
    ),
    (lambda p: _network_nights(p, levels=[]), "levels", "at least 1"),
    (lambda p: _network_nights(p, group=None), "group", "already a policy for the whole desk"),
    (lambda p: _network_nights(p, group="no-such-group"), "group", "No group"),
    (lambda p: _network_nights(p, calendar=2**31 - 1), "calendar", "No calendar"),
    (lambda p: _network_nights(p, repeat_count=21), "repeat_count", "less than or equal"),
    (lambda p: _network_nights(p, name="  "), "name", "blank"),
]


@pytest.mark.parametrize(("make", "field", "words"), BAD)
def test_bad_policies_name_the_field_and_store_nothing(admin, people, make, field, words):
    before = _stored(people.acme)
    body = problem(admin.post(URL, make(people), format="json"), 400)
    assert list(body["errors"]) == [field]
    assert words in body["errors"][field][0]
    assert _stored(people.acme) == before


def test_a_bad_change_keeps_the_policy_as_it_was(admin, people):
    desk = EscalationPolicy.objects.get(tenant=people.acme, group=None)
    before = _stored(people.acme)
    refused = admin.put(f"{URL}{desk.pk}/", _user_refused(people, "rita@acme.test") | {
        "group": None}, format="json")  # fmt: skip
    assert "levels[0].user" in problem(refused, 400)["errors"]
    assert _stored(people.acme) == before


def test_another_tenants_calendar_or_group_is_refused(admin, people):
    from tests.factories import GroupFactory

    GroupFactory(tenant=people.globex, slug="globex-ops")
    body = problem(admin.post(URL, _network_nights(people, group="globex-ops"), format="json"), 400)
    assert list(body["errors"]) == ["group"]
    theirs = around_the_clock_calendar(people.globex)
    body = problem(admin.post(URL, _network_nights(people, calendar=theirs.pk), format="json"), 400)
    assert list(body["errors"]) == ["calendar"]


def test_keys_without_the_admin_scope_are_403_and_charlie_404(api_for, people):
    desk = EscalationPolicy.objects.get(tenant=people.acme, group=None)
    before = _stored(people.acme)
    for scopes in (("read",), ("read", "write")):
        client = api_for(scopes)
        assert client.get(f"{URL}{desk.pk}/").status_code == 200
        assert problem(client.post(URL, _network_nights(people), format="json"), 403)
        assert problem(client.patch(f"{URL}{desk.pk}/", {"name": "x"}, format="json"), 403)
        assert problem(client.delete(f"{URL}{desk.pk}/"), 403)
    charlie = api_for(("read", "write", "admin"), tenant=people.globex)
    assert problem(charlie.get(f"{URL}{desk.pk}/"), 404)
    assert problem(charlie.put(f"{URL}{desk.pk}/", _network_nights(people), format="json"), 404)
    assert problem(charlie.delete(f"{URL}{desk.pk}/"), 404)
    assert _stored(people.acme) == before


def test_a_repeated_post_with_an_idempotency_key_creates_one_policy(admin, people):
    headers = {"HTTP_IDEMPOTENCY_KEY": "esc-1"}
    first = admin.post(URL, _network_nights(people), format="json", **headers)
    again = admin.post(URL, _network_nights(people), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Location"] == first["Location"]
    assert EscalationPolicy.objects.filter(tenant=people.acme, group=people.group).count() == 1
