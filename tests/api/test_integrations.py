"""Monitoring integrations (issue 18): configured over the API, and what each tool sends."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.intake.services import integration_create
from incidents.models import AlertLog, Incident, IncidentEvent, Integration
from incidents.tasks import prune_alert_log
from tenancy.actors import Actor
from tenancy.models import Membership
from tests.concurrency import run_together

AM = "/api/v1/integrations/alertmanager/"
PD = "/api/v1/integrations/events/v2/enqueue"


def admin_actor(people) -> Actor:
    return Actor.member(Membership.objects.get(user=people.ada, tenant=people.acme))


@pytest.fixture
def make_integration(people):
    def _make(kind="alertmanager", **values):
        values.setdefault("name", f"{kind} prod")
        return integration_create(actor=admin_actor(people), kind=kind, **values)

    return _make


def am_message(status="firing", fingerprint="f1", severity="critical", **annotations):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="DiskFull"}',
        "status": status,
        "receiver": "desk",
        "commonLabels": {"alertname": "DiskFull"},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "DiskFull", "severity": severity, "instance": "db1"},
                "annotations": {
                    "summary": "Disk 95% on db1",
                    "description": "The data volume fills.",
                    "runbook_url": "https://runbooks.example/disk",
                    **annotations,
                },
                "fingerprint": fingerprint,
            }
        ],
    }


def send_am(key, body):
    return APIClient().post(AM, body, format="json", HTTP_AUTHORIZATION=f"Bearer {key}")


def test_an_admin_key_creates_an_integration_and_sees_its_key_only_in_that_answer(
    api_for, people, audit
):
    client = api_for(("read", "write", "admin"))
    created = client.post(
        "/api/v1/integrations/",
        {"kind": "pagerduty_events", "name": "Zabbix", "default_urgency": "high"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["key"].startswith("sdi")
    listed = client.get("/api/v1/integrations/").json()
    assert [row["name"] for row in listed] == ["Zabbix"] and "key" not in listed[0]
    assert "integration.created" in [r.action for r in audit()]


def test_a_key_without_the_admin_scope_may_not_create_an_integration(api, people):
    response = api.post(
        "/api/v1/integrations/", {"kind": "alertmanager", "name": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not Integration.objects.exists()


def test_rotating_the_key_turns_the_old_one_away_at_once(api_for, make_integration, audit):
    integration, old = make_integration()
    client = api_for(("read", "write", "admin"))
    new = client.post(f"/api/v1/integrations/{integration.pk}/rotate-key/").json()["key"]
    assert send_am(old, am_message()).status_code == 401
    assert send_am(new, am_message()).status_code == 200
    assert "integration.key_rotated" in [r.action for r in audit()]


def test_a_disabled_integration_refuses_alerts_and_the_log_says_why(
    api_for, make_integration, audit
):
    integration, key = make_integration()
    client = api_for(("read", "write", "admin"))
    client.patch(f"/api/v1/integrations/{integration.pk}/", {"enabled": False}, format="json")
    body = send_am(key, am_message()).json()
    assert body["alerts"][0]["outcome"] == "refused"
    assert not Incident.objects.exists()
    log = client.get(f"/api/v1/integrations/{integration.pk}/log/?outcome=refused").json()
    assert log[0]["reason"] == "The integration is disabled."
    assert "integration.disabled" in [r.action for r in audit()]


def test_another_tenants_integration_is_not_found(api_for, people, make_integration):
    integration, _ = make_integration()
    client = api_for(("read", "write", "admin"), tenant=people.globex)
    assert client.get(f"/api/v1/integrations/{integration.pk}/").status_code == 404


def test_alertmanager_firing_opens_one_incident_by_the_rules_and_a_repeat_deduplicates(
    make_integration, people
):
    _, key = make_integration(rules="severity=critical: high/high network")
    first = send_am(key, am_message())
    again = send_am(key, am_message())
    assert [a["outcome"] for a in first.json()["alerts"] + again.json()["alerts"]] == [
        "accepted",
        "deduplicated",
    ]
    incident = Incident.objects.get()
    assert (incident.title, incident.impact, incident.urgency) == (
        "Disk 95% on db1",
        "high",
        "high",
    )
    assert incident.category == people.network
    assert "The data volume fills." in incident.description
    assert "https://runbooks.example/disk" in incident.description


def test_alertmanager_resolved_resolves_the_incident(make_integration):
    _, key = make_integration(default_category="network")
    send_am(key, am_message())
    send_am(key, am_message(status="resolved"))
    assert Incident.objects.get().state == "resolved"


def test_a_resolved_alert_of_an_incident_no_group_took_yet_is_noted_not_lost(make_integration):
    _, key = make_integration()
    send_am(key, am_message())
    answer = send_am(key, am_message(status="resolved")).json()["alerts"][0]
    assert answer["outcome"] == "accepted" and answer["reason"].startswith("Noted")
    assert Incident.objects.get().state == "reported"


def test_alertmanager_resolved_adds_a_note_when_the_integration_leaves_resolving_to_people(
    make_integration,
):
    _, key = make_integration(resolve_on_resolved=False)
    send_am(key, am_message())
    send_am(key, am_message(status="resolved"))
    incident = Incident.objects.get()
    assert incident.state != "resolved"
    assert IncidentEvent.objects.filter(incident=incident, data__action="resolved").exists()


def test_alertmanager_without_a_key_is_turned_away(make_integration):
    make_integration()
    assert APIClient().post(AM, am_message(), format="json").status_code == 401


def test_a_pagerduty_trigger_is_answered_as_pagerduty_answers(make_integration):
    _, key = make_integration("pagerduty_events")
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "web/5xx",
        "payload": {"summary": "5xx on web", "source": "lb1", "severity": "critical"},
    }
    response = APIClient().post(PD, event, format="json")
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "web/5xx",
    }
    assert Incident.objects.get().impact == "high"


def test_an_invalid_pagerduty_event_is_answered_with_pagerdutys_errors(make_integration):
    _, key = make_integration("pagerduty_events")
    event = {"routing_key": key, "event_action": "trigger", "payload": {"summary": "x"}}
    response = APIClient().post(PD, event, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any("payload.severity" in error for error in body["errors"])
    assert AlertLog.objects.get().outcome == "refused"


def test_an_unknown_routing_key_is_an_invalid_event(people):
    event = {"routing_key": "nope", "event_action": "resolve", "dedup_key": "x"}
    response = APIClient().post(PD, event, format="json")
    assert response.status_code == 400 and "routing_key" in response.json()["errors"][0]


def test_a_generic_webhook_reads_the_fields_its_mapping_names(make_integration):
    mapping = "dedup_key = $.check.id\ntitle = $.check.name\naction = $.state\nseverity = $.level"
    integration, key = make_integration(
        "generic_webhook", mapping=mapping, rules="severity=crit: high/medium network"
    )
    url = f"/api/v1/integrations/webhook/{integration.pk}/"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    down = {"check": {"id": 7, "name": "Site down"}, "state": "down", "level": "crit"}
    assert client.post(url, down, format="json").json()["outcome"] == "accepted"
    assert client.post(url, {**down, "state": "up"}, format="json").json()["outcome"] == "accepted"
    missing = client.post(url, {"state": "down"}, format="json")
    assert missing.status_code == 400 and "$.check.id" in missing.json()["reason"]
    assert Incident.objects.get().state == "resolved"


def test_past_the_rate_limit_an_integration_gets_429_with_retry_after_and_the_log_counts_it(
    make_integration, settings
):
    import redis

    settings.INTEGRATION_ALERTS_PER_MINUTE = 2
    integration, key = make_integration()
    client = redis.Redis.from_url(settings.REDIS_URL)
    for name in client.scan_iter(f"ratelimit:integration:{integration.pk}:*"):
        client.delete(name)
    statuses = [send_am(key, am_message()).status_code for _ in range(3)]
    last = send_am(key, am_message())
    assert statuses == [200, 200, 429] and int(last["Retry-After"]) >= 1
    assert (
        AlertLog.objects.filter(outcome="refused", reason__startswith="Rate limited").count() == 2
    )


def test_the_daily_prune_removes_log_rows_past_the_retention(make_integration):
    _, key = make_integration()
    send_am(key, am_message())
    AlertLog.objects.update(received_at=timezone.now() - timedelta(days=31))
    send_am(key, am_message(fingerprint="f2"))
    assert prune_alert_log() == 1 and AlertLog.objects.count() == 1


def test_label_rules_in_words_when_a_line_is_wrong(make_integration):
    from tenancy.errors import InvalidInput

    with pytest.raises(InvalidInput, match="line 1.*impact/urgency"):
        make_integration(rules="severity critical high")


# Fifty connections at once: one such test at a time, or two workers exhaust PostgreSQL's 100.
@pytest.mark.xdist_group("many_connections")
@pytest.mark.postgres
def test_a_storm_of_concurrent_events_over_three_keys_makes_three_incidents_and_no_error(
    transactional_db, make_integration
):
    _, key = make_integration("pagerduty_events")

    def send(index: int):
        def _send() -> int:
            event = {
                "routing_key": key,
                "event_action": "trigger",
                "dedup_key": f"storm-{index % 3}",
                "payload": {"summary": "Storm", "source": "s", "severity": "error"},
            }
            return APIClient().post(PD, event, format="json").status_code

        return _send

    outcomes = run_together(*[send(i) for i in range(45)])
    assert [value for _, value in outcomes] == [202] * 45
    assert Incident.objects.count() == 3
    assert AlertLog.objects.filter(outcome="accepted").count() == 3
    assert AlertLog.objects.filter(outcome="deduplicated").count() == 42


def test_a_webhook_integration_needs_a_mapping_with_dedup_key_and_title(api_for, people):
    client = api_for(("read", "write", "admin"))
    response = client.post(
        "/api/v1/integrations/",
        {"kind": "generic_webhook", "name": "Uptime", "mapping": {"title": "$.name"}},
        format="json",
    )
    assert response.status_code == 400
    assert "dedup_key" in str(response.json())
    assert not Integration.objects.exists()


def test_acknowledging_a_key_with_no_open_incident_is_accepted_and_logged_as_ignored(
    make_integration,
):
    _, key = make_integration("pagerduty_events")
    event = {"routing_key": key, "event_action": "acknowledge", "dedup_key": "nothing"}
    assert APIClient().post(PD, event, format="json").status_code == 202
    assert AlertLog.objects.get().outcome == "ignored"


def test_the_alert_log_page_shows_admins_what_was_received_filtered_by_outcome(
    make_integration, login, people
):
    integration, key = make_integration()
    send_am(key, am_message())
    send_am(key, am_message())
    page = login(people.ada).get(
        f"/t/acme/settings/integrations/log/?integration={integration.pk}&outcome=deduplicated"
    )
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [row.outcome for row in rows] == ["deduplicated"]
    assert "Added to the open incident." in page.content.decode()


def test_an_agent_may_not_open_the_integrations_settings(login, people):
    assert login(people.alice).get("/t/acme/settings/integrations/").status_code in (403, 404)


def test_a_pagerduty_sender_past_the_limit_gets_pagerdutys_throttle_answer(
    make_integration, settings
):
    import redis

    settings.INTEGRATION_ALERTS_PER_MINUTE = 1
    integration, key = make_integration("pagerduty_events")
    client = redis.Redis.from_url(settings.REDIS_URL)
    for name in client.scan_iter(f"ratelimit:integration:{integration.pk}:*"):
        client.delete(name)
    event = {"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"}
    APIClient().post(PD, event, format="json")
    response = APIClient().post(PD, event, format="json")
    assert response.status_code == 429 and response.json()["status"] == "throttle event"
    assert int(response["Retry-After"]) >= 1


def test_the_preview_says_in_words_what_is_wrong_with_a_sample_and_keeps_what_was_typed(
    make_integration, login, people
):
    integration, _ = make_integration()
    form = {
        "name": "Prometheus",
        "rules": "severity=critical: high/high",
        "default_impact": "medium",
        "default_urgency": "medium",
        "sample": "{not json",
        "preview": "1",
    }
    page = login(people.ada).post(f"/t/acme/settings/integrations/{integration.pk}/", form)
    assert "The sample is not JSON" in page.content.decode()
    assert "{not json" in page.content.decode()
    sample = '{"alerts": [{"status": "firing", "labels": {"severity": "critical"}, '
    sample += '"annotations": {"summary": "Disk full"}, "fingerprint": "a"}]}'
    page = login(people.ada).post(
        f"/t/acme/settings/integrations/{integration.pk}/", {**form, "sample": sample}
    )
    assert page.context["preview"]["rows"][0]["fields"]["impact"] == "high"
    assert not Incident.objects.exists()  # a preview opens nothing


def test_a_grouped_alertmanager_integration_opens_one_incident_per_group_until_all_resolve(
    make_integration,
):
    _, key = make_integration(group_alerts=True, default_category="network")
    group = am_message()
    second = {**group["alerts"][0], "fingerprint": "f2", "labels": {"instance": "db2"}}
    group["alerts"].append(second)
    assert send_am(key, group).json()["alerts"][0]["outcome"] == "accepted"
    incident = Incident.objects.get()
    assert incident.title == "DiskFull (2 firing)"
    group["alerts"][0]["status"] = "resolved"
    assert send_am(key, group).json()["alerts"][0]["outcome"] == "deduplicated"
    send_am(key, {**group, "status": "resolved"})
    assert Incident.objects.get().state == "resolved"
