"""GET /api/v1/audit/: the audit log for admin-scoped keys and admins' sessions, with the
settings page's filters, newest first, in cursor pages of fifty."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tenancy.apikeys import api_key_create
from tenancy.models import Tenant
from tenancy.services import tenant_audit_retention_set
from tests.api.helpers import problem
from tests.factories import PASSWORD
from tests.tenancy.audit_helpers import AFTERNOON, key_created, many, role_changed

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit/"


def _key_client(tenant, scopes) -> APIClient:
    _, secret = api_key_create(tenant=tenant, name=f"audit-{'-'.join(scopes)}", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def admin_key(people) -> APIClient:
    return _key_client(people.acme, ["read", "write", "admin"])


def _session(user, tenant_slug="acme") -> APIClient:
    client = APIClient()
    assert client.login(email=user.email, password=PASSWORD)
    client.credentials(HTTP_X_TENANT=tenant_slug)
    return client


def test_an_admin_key_reads_each_record_with_its_changes_in_words(admin_key, people):
    role_changed(people)
    key_created(people)
    tenant_audit_retention_set(actor=people.actor(people.ada), days=400)
    response = admin_key.get(URL)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["action"] for r in results[:3]] == [
        "audit.retention_changed",
        "apikey.created",
        "member.role_changed",
    ]
    retention, key, role = results[:3]
    assert retention["action_text"] == "changed how long the audit log keeps records"
    assert retention["changes"] == ["Retention days: 730 → 400"]
    assert (retention["before"], retention["after"]) == (
        {"retention_days": 730},
        {"retention_days": 400},
    )
    assert retention["target_type"] == "tenant" and retention["target_id"] == str(people.acme.pk)
    assert key["actor"] == "API key “Zabbix”" and key["actor_kind"] == "integration"
    assert role["actor"] == "Ada Admin" and role["target_label"] == "Alice Agent"
    assert role["changes"] == ["Role: Agent → Manager"] and role["address"] == "203.0.113.7"
    assert role["at"].endswith("Z")


def test_an_admins_session_reads_it_too(people):
    role_changed(people)
    response = _session(people.ada).get(URL, {"action": "member.role_changed"})
    assert [r["target_label"] for r in response.json()["results"]] == ["Alice Agent"]


@pytest.mark.parametrize("scopes", [["read"], ["read", "write"]])
def test_a_key_without_the_admin_scope_is_refused(people, scopes):
    role_changed(people)
    body = problem(_key_client(people.acme, scopes).get(URL), 403)
    assert body["detail"] == "This key lacks the admin scope."


@pytest.mark.parametrize("who", ["alice", "max", "rita"])
def test_a_session_of_anyone_but_an_admin_is_refused(people, who):
    role_changed(people)
    problem(_session(getattr(people, who)).get(URL), 403)


def test_charlie_cannot_name_acme_and_his_own_admin_key_sees_only_globex(people):
    role_changed(people)
    many(people.globex, 3, action="globex.thing_done")
    problem(_session(people.charlie).get(URL), 404)
    results = _key_client(people.globex, ["read", "admin"]).get(URL).json()["results"]
    actions = {r["action"] for r in results}
    assert "globex.thing_done" in actions and "member.role_changed" not in actions


def test_filters_by_actor_action_target_and_days(admin_key, people):
    Tenant.objects.filter(pk=people.acme.pk).update(time_zone="Pacific/Auckland")
    role_changed(people, at=AFTERNOON)  # 7 December in Auckland
    role_changed(people, who=people.max, target_label="Bob Agent", at=AFTERNOON)
    key_created(people, label="Pager")

    def labels(**query) -> list[str]:
        response = admin_key.get(URL, query)
        assert response.status_code == 200, response.content
        return [r["target_label"] for r in response.json()["results"]]

    assert labels(actor="max@acme.test") == ["Bob Agent"]
    assert labels(actor="zabbix") == ["Pager"]
    assert labels(action="member.role_changed") == ["Bob Agent", "Alice Agent"]
    assert labels(target="bob") == ["Bob Agent"]
    days = {"action": "member.role_changed"}
    assert len(labels(**days, date_from="2026-12-07", date_to="2026-12-07")) == 2
    assert labels(**days, date_to="2026-12-06") == []


@pytest.mark.parametrize(
    "query, field, message",
    [
        ({"date_from": "yesterday"}, "date_from", "Enter a valid date."),
        ({"date_from": "2026-12-09", "date_to": "2026-12-01"}, "date_to", "The last day is"),
        ({"action": "drop table"}, "action", "is not an action name"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(admin_key, people, query, field, message):
    body = problem(admin_key.get(URL, query), 400)
    assert message in body["errors"][field][0]


def test_cursor_pages_of_fifty_without_gaps_or_repeats(admin_key, people):
    many(people.acme, 110, at=timezone.now() - timedelta(minutes=1))  # ties on the time
    seen: list[str] = []
    url: str | None = f"{URL}?action=webhook.changed"
    sizes = []
    while url:
        page = admin_key.get(url).json()
        sizes.append(len(page["results"]))
        seen += [r["target_label"] for r in page["results"]]
        url = page["next"]
    assert sizes == [50, 50, 10]
    assert len(set(seen)) == 110


def test_the_list_makes_the_same_queries_for_5_or_50_records(
    admin_key, people, django_assert_max_num_queries
):
    many(people.acme, 5)
    with django_assert_max_num_queries(3) as few:  # key, its last use, the page
        assert len(admin_key.get(URL).json()["results"]) >= 5
    many(people.acme, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(admin_key.get(URL).json()["results"]) == 50
