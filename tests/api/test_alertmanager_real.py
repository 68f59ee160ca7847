"""The real Prometheus Alertmanager sends to the desk (issue 18): alerts posted to its own API
reach the desk's webhook receiver with the key in http_config's Authorization header."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from incidents.intake.services import integration_create
from incidents.models import AlertLog, Incident
from tenancy.actors import Actor
from tenancy.models import Membership
from tests.api.alertmanager import BINARY, alertmanager

pytestmark = [
    pytest.mark.postgres,
    # CI installs it (.ci/run): there a missing binary fails rather than skips.
    pytest.mark.skipif(
        BINARY is None and not os.environ.get("CI"),
        reason="prometheus-alertmanager is not installed",
    ),
]


def until(check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s")


def alert(ends_at: datetime | None = None) -> dict:
    body = {
        "labels": {"alertname": "DiskFull", "instance": "db1", "severity": "critical"},
        "annotations": {
            "summary": "Disk 95% on db1",
            "description": "The data volume fills.",
            "runbook_url": "https://runbooks.example/disk",
        },
        "generatorURL": "http://prometheus.example/graph",
    }
    if ends_at is not None:
        body["endsAt"] = ends_at.isoformat()
    return body


def test_alertmanager_firing_opens_an_incident_repeats_deduplicate_and_resolved_resolves_it(
    transactional_db, live_server, people, tmp_path
):
    admin = Actor.member(Membership.objects.get(user=people.ada, tenant=people.acme))
    _, key = integration_create(
        actor=admin,
        kind="alertmanager",
        name="Prometheus",
        default_category="network",
        rules="severity=critical: high/high",
    )
    receiver = f"{live_server.url}/api/v1/integrations/alertmanager/"
    with alertmanager(tmp_path, receiver, key) as manager:
        assert manager.post_alerts([alert()]) == 200
        incident = until(lambda: Incident.objects.first())
        assert (incident.title, incident.impact, incident.urgency) == (
            "Disk 95% on db1",
            "high",
            "high",
        )
        assert "https://runbooks.example/disk" in incident.description
        # Alertmanager sends the firing group again every repeat_interval: the desk dedups.
        until(lambda: AlertLog.objects.filter(outcome="deduplicated").exists())
        manager.post_alerts([alert(ends_at=datetime.now(UTC) - timedelta(seconds=1))])
        until(lambda: Incident.objects.get().state == "resolved")
    assert Incident.objects.count() == 1
    assert not AlertLog.objects.filter(outcome="refused").exists()
