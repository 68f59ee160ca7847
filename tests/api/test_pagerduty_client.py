"""A PagerDuty Events API v2 client (the `pagerduty` package PagerDuty maintains) pointed at the
desk's URL triggers, acknowledges and resolves, unchanged but for its base URL (issue 18)."""

import pagerduty
import pytest

from incidents.intake.services import integration_create
from incidents.models import Incident
from tenancy.actors import Actor
from tenancy.models import Membership
from tests.api.tls_proxy import tls_proxy

pytestmark = pytest.mark.postgres


@pytest.fixture
def client(transactional_db, live_server, people, tmp_path):
    admin = Actor.member(Membership.objects.get(user=people.ada, tenant=people.acme))
    _, key = integration_create(
        actor=admin, kind="pagerduty_events", name="Datadog", default_category="network"
    )
    # The client insists on https://: a TLS front with a throwaway certificate it trusts.
    with tls_proxy(tmp_path, live_server.url) as (url, ca):
        events = pagerduty.EventsApiV2Client(
            key, base_url=f"{url}/api/v1/integrations/events", verify=str(ca)
        )
        yield events
        events.close()


def test_a_pagerduty_client_triggers_acknowledges_and_resolves_an_incident(client):
    dedup_key = client.trigger(
        "Checkout error rate 12%",
        "checkout-api",
        dedup_key="checkout/errors",
        severity="critical",
        custom_details={"error_rate": "12%"},
    )
    assert dedup_key == "checkout/errors"
    assert client.trigger("Checkout error rate 14%", "checkout-api", dedup_key=dedup_key)
    incident = Incident.objects.get()
    assert (incident.impact, incident.urgency) == ("high", "high")
    assert "error_rate" in incident.description
    client.acknowledge(dedup_key)
    assert Incident.objects.get().acknowledged_at is not None
    client.resolve(dedup_key)
    assert Incident.objects.get().state == "resolved"


def test_a_trigger_without_dedup_key_gets_one_back_from_the_desk(client):
    dedup_key = client.trigger("Queue backlog", "worker-1", severity="warning")
    assert len(dedup_key) == 32
    client.resolve(dedup_key)
    assert Incident.objects.get().state == "resolved"


def test_an_event_the_desk_refuses_raises_in_the_client_as_pagerduty_would(client):
    with pytest.raises(pagerduty.Error):
        client.trigger("Bad severity", "x", severity="urgent")
