"""Settings → Audit log: an admin reads who changed what in words, filters it, pages through it
and downloads it as CSV; nobody else finds the page. Settings → General: the retention period."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tenancy.errors import InvalidInput, NotAllowed
from tenancy.models import AuditRecord, Membership, Role, Tenant
from tenancy.services import tenant_audit_retention_set
from tests.tenancy.audit_helpers import AFTERNOON, key_created, many, page_rows, role_changed

pytestmark = pytest.mark.django_db

URL = "/t/acme/settings/audit/"
GENERAL = "/t/acme/settings/general/"


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_page_lists_records_newest_first_in_words(login, people):
    client = login(people.ada)
    role_changed(people)
    key_created(people)
    tenant_audit_retention_set(actor=people.actor(people.ada), days=365)
    rows = dict(page_rows(client.get(URL).content.decode()))
    assert list(rows)[:3] == ["audit.retention_changed", "apikey.created", "member.role_changed"]
    assert "Ada Admin" in rows["member.role_changed"]
    assert "from 203.0.113.7" in rows["member.role_changed"]
    assert "Alice Agent (membership)" in rows["member.role_changed"]
    assert "Role: Agent → Manager" in rows["member.role_changed"]
    assert "API key “Zabbix”" in rows["apikey.created"]
    assert "Scopes: read" in rows["apikey.created"]
    retention = rows["audit.retention_changed"]
    assert "changed how long the audit log keeps records" in retention
    assert "Retention days: 730 → 365" in retention


def test_the_settings_home_and_every_settings_page_lead_to_the_audit_log(login, people):
    client = login(people.ada)
    for page in ("/t/acme/settings/", GENERAL):
        assert f'href="{URL}"' in client.get(page).content.decode()


def test_filters_by_actor_name_or_email_action_and_target(login, people):
    client = login(people.ada)
    role_changed(people)
    role_changed(people, who=people.max, target_label="Bob Agent")
    key_created(people, label="Pager")
    role_changed(people, who=people.bob, action="signout", target=None, target_label="")

    def actions(**query) -> list[str]:
        return [a for a, _ in page_rows(client.get(URL, query).content.decode())]

    assert actions(actor="max m") == ["member.role_changed"]
    assert actions(actor="max@acme") == ["member.role_changed"]
    assert actions(actor="zabbix") == ["apikey.created"]
    assert actions(action="apikey.created") == ["apikey.created"]
    assert actions(target="bob") == ["member.role_changed"]
    assert actions(target="membership", actor="ada") == ["member.role_changed"]
    assert actions(action="member.role_changed", actor="nobody") == []
    assert actions(action="signout", actor="bob") == ["signout"]  # a name without a dot


def test_the_action_select_offers_the_actions_present_in_words(login, people):
    client = login(people.ada)
    tenant_audit_retention_set(actor=people.actor(people.ada), days=90)
    body = client.get(URL).content.decode()
    assert (
        '<option value="audit.retention_changed">changed how long the audit log keeps records'
        in body
    )
    assert 'value="member.role_changed"' not in body  # nothing of that kind recorded yet
    asked = client.get(URL, {"action": "webhook.deleted"}).content.decode()
    assert '<option value="webhook.deleted" selected>' in asked  # the filter shown is the one used


def test_days_are_the_tenants_days(login, people):
    Tenant.objects.filter(pk=people.acme.pk).update(time_zone="Pacific/Auckland")
    client = login(people.ada)
    role_changed(people, at=AFTERNOON)  # 6 December 14:00 UTC is 7 December 03:00 in Auckland

    def shown(**query) -> int:
        return len(page_rows(client.get(URL, query).content.decode()))

    assert shown(action="member.role_changed", date_from="2026-12-07", date_to="2026-12-07") == 1
    assert shown(action="member.role_changed", date_to="2026-12-06") == 0
    assert shown(action="member.role_changed", date_from="2026-12-08") == 0


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"date_from": "2026-13-45"}, "Enter a valid date."),
        ({"date_from": "2026-12-09", "date_to": "2026-12-01"}, "The last day is before the first"),
        ({"action": "DROP TABLE"}, "is not an action name"),
        ({"date_to": "0001-01-01"}, "Pick a day between 1 January 1970"),
    ],
)
def test_a_bad_filter_is_explained_and_the_others_still_apply_and_stay_typed(
    login, people, bad, message
):
    client = login(people.ada)
    role_changed(people)
    role_changed(people, who=people.max)
    response = client.get(URL, {"actor": "Max Manager", **bad})
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'")
    assert "Some filters could not be used" in body
    assert 'value="Max Manager"' in body  # what was typed is kept
    for value in bad.values():
        assert value.replace(" ", "") in body.replace(" ", "") or value == "DROP TABLE"
    assert [text for _, text in page_rows(body) if "Role:" in text] and all(
        "Max Manager" in text for _, text in page_rows(body)
    )


def test_pages_of_fifty_follow_each_other_without_gaps_or_repeats(login, people):
    client = login(people.ada)
    many(people.acme, 120, at=timezone.now() - timedelta(minutes=5))  # ties on the time
    seen: list[str] = []
    url, pages = f"{URL}?action=webhook.changed", 0
    while url:
        body = client.get(url).content.decode()
        rows = [text for _, text in page_rows(body)]
        assert len(rows) == (50 if pages < 2 else 20)
        seen += rows
        pages += 1
        older = re.search(r'href="\?([^"]*)">Older records', body)
        url = URL + "?" + older.group(1).replace("&amp;", "&") if older else ""
        assert "action=webhook.changed" in url or not url  # the filters go along
    assert pages == 3
    assert len(seen) == len(set(seen)) == 120


def test_a_broken_page_link_says_so_and_shows_the_newest(login, people):
    client = login(people.ada)
    role_changed(people)
    body = client.get(URL, {"after": "12x.4"}).content.decode()
    assert "That page link is broken; here are the newest records." in body
    assert page_rows(body)


def test_the_page_makes_the_same_queries_for_5_or_50_records(
    login, people, django_assert_max_num_queries
):
    client = login(people.ada)
    many(people.acme, 5)
    with django_assert_max_num_queries(6) as few:  # session, user, membership, actions, page, menu
        assert len(page_rows(client.get(URL).content.decode())) >= 5
    many(people.acme, 60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(page_rows(client.get(URL).content.decode())) == 50


def test_the_csv_holds_every_matching_record_with_before_and_after(login, people):
    client = login(people.ada)
    many(people.acme, 70)
    role_changed(people)
    rows = _csv(client.get(URL, {"action": "webhook.changed", "export": "csv"}))
    header, records = rows[0], rows[1:]
    assert header == [
        "When",
        "Who",
        "What",
        "Action",
        "Target type",
        "Target id",
        "Target",
        "Changes",
        "Before (JSON)",
        "After (JSON)",
        "Address",
    ]
    assert len(records) == 70  # all of them, not a page
    assert {r[3] for r in records} == {"webhook.changed"}
    first = records[0]
    assert first[1] == "Ada Admin" and first[7] == "Url: https://old.example → https://new.example"
    assert json.loads(first[8]) == {"url": "https://old.example"}
    assert json.loads(first[9]) == {"url": "https://new.example"}


def test_the_csv_writes_formulas_as_text(login, people):
    client = login(people.ada)
    role_changed(people, target_label='=HYPERLINK("http://evil.example","x")')
    key_created(people, key_name="+cmd|' /C calc'!A0", label="@SUM(1)")
    rows = _csv(client.get(URL, {"export": "csv"}))
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil.example","x")' in cells
    assert "'@SUM(1)" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert rows[1][1] == "API key “+cmd|' /C calc'!A0”"  # not at the start: harmless


@pytest.mark.parametrize("who", ["alice", "max", "rita", "charlie"])
def test_only_an_admin_of_the_tenant_finds_the_page_or_its_csv(login, people, who):
    role_changed(people)
    client = login(getattr(people, who))
    assert client.get(URL).status_code == 404
    assert client.get(URL, {"export": "csv"}).status_code == 404


def test_charlie_as_admin_of_globex_reads_only_globex_records(login, people):
    Membership.objects.filter(user=people.charlie).update(role=Role.ADMIN)
    role_changed(people)
    many(people.globex, 2, action="globex.thing_done")
    client = login(people.charlie)
    body = client.get("/t/globex/settings/audit/").content.decode()
    actions = {a for a, _ in page_rows(body)}
    assert "globex.thing_done" in actions and "member.role_changed" not in actions
    cells = _csv(client.get("/t/globex/settings/audit/", {"export": "csv"}))
    assert not [row for row in cells if "Alice Agent" in row]
    assert client.get(URL).status_code == 404


# --- Retention (Settings → General) -----------------------------------------------------------


def test_an_admin_sets_the_retention_and_the_change_is_recorded(login, people):
    response = login(people.ada).post(GENERAL, {"audit_retention_days": "365"}, follow=True)
    assert "The audit log now keeps records for 365 days." in response.content.decode()
    assert Tenant.objects.get(pk=people.acme.pk).audit_retention_days == 365
    record = AuditRecord.objects.for_tenant(people.acme).get(action="audit.retention_changed")
    assert (record.before, record.after) == ({"retention_days": 730}, {"retention_days": 365})
    assert record.actor_user_id == people.ada.pk and record.target_label == "Acme Corporation"


@pytest.mark.parametrize("typed", ["29", "3651", "-1", "a year", ""])
def test_a_wrong_retention_is_refused_with_what_was_typed_kept(login, people, typed):
    body = login(people.ada).post(GENERAL, {"audit_retention_days": typed}).content.decode()
    assert 'class="field field-error"' in body
    assert f'value="{typed}"' in body or not typed
    if typed in ("29", "3651", "-1"):
        assert f"The audit log keeps records for 30 to 3650 days; {typed} is outside it." in body
    assert Tenant.objects.get(pk=people.acme.pk).audit_retention_days == 730
    assert not AuditRecord.objects.filter(action="audit.retention_changed").exists()


def test_the_auto_close_window_is_saved_as_before_beside_the_retention_form(login, people):
    client = login(people.ada)
    body = client.get(GENERAL).content.decode()
    assert 'name="audit_retention_days" value="730"' in body
    client.post(GENERAL, {"confirmation_window_days": "7"})
    tenant = Tenant.objects.get(pk=people.acme.pk)
    assert (tenant.confirmation_window_days, tenant.audit_retention_days) == (7, 730)


def test_the_retention_service_refuses_others_and_records_only_a_real_change(people):
    with pytest.raises(NotAllowed):
        tenant_audit_retention_set(actor=people.actor(people.max), days=100)
    with pytest.raises(InvalidInput) as refused:
        tenant_audit_retention_set(actor=people.actor(people.ada), days=10)
    assert refused.value.field == "audit_retention_days"
    tenant_audit_retention_set(actor=people.actor(people.ada), days=730)  # as it was
    assert not AuditRecord.objects.filter(action="audit.retention_changed").exists()
    tenant_audit_retention_set(actor=people.actor(people.ada), days=30)
    assert AuditRecord.objects.filter(action="audit.retention_changed").count() == 1


@pytest.mark.parametrize("who", ["alice", "max", "charlie"])
def test_only_an_admin_changes_the_retention(login, people, who):
    response = login(getattr(people, who)).post(GENERAL, {"audit_retention_days": "60"})
    assert response.status_code == 404
    assert Tenant.objects.get(pk=people.acme.pk).audit_retention_days == 730
