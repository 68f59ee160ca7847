"""/api/v1/webhooks/: the settings page's endpoints as a resource, with a delivery log and
redelivery. Deliveries go to a local sink (the edge of the world)."""

import pytest

from escalation.models import WebhookEndpoint
from tests.faults.sink import WebhookSink

EVENTS = ["incident.created", "incident.transitioned"]


@pytest.fixture
def sink():
    with WebhookSink() as receiver:
        yield receiver


def _create(client, url, **extra):
    return client.post("/api/v1/webhooks/", {"url": url, "events": EVENTS, **extra}, format="json")


def test_an_admin_key_subscribes_and_the_endpoint_receives_signed_events(
    admin, sink, people, django_capture_on_commit_callbacks
):
    created = _create(admin, sink.url("/ok"), description="Chat bot")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["events"] == EVENTS and body["secret"].startswith("whsec_")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/api/v1/incidents/", {"title": "Wifi down"}, format="json")
    sink.wait_until(lambda: sink.ids(), what="a delivery")
    [delivery] = [d for d in sink.deliveries if d.accepted]
    assert delivery.event == "incident.created"
    assert delivery.json()["data"]["incident"]["number"] == "INC-000001"
    log = admin.get(f"/api/v1/webhooks/{body['id']}/deliveries/").json()
    assert [(row["event"], row["status"]) for row in log] == [("incident.created", "sent")]
    assert log[0]["delivery_id"] == delivery.delivery_id


def test_a_failed_delivery_is_redelivered_with_the_same_id(
    admin, sink, people, django_capture_on_commit_callbacks
):
    endpoint = _create(admin, sink.url("/status/410")).json()
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/api/v1/incidents/", {"title": "Wifi down"}, format="json")
    [row] = admin.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()
    assert row["status"] == "dead"
    admin.patch(f"/api/v1/webhooks/{endpoint['id']}/", {"url": sink.url("/ok")}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        again = admin.post(f"/api/v1/webhooks/{endpoint['id']}/deliveries/{row['id']}/redeliver/")
    assert again.status_code == 202
    sink.wait_until(lambda: sink.ids(), what="the redelivery")
    assert list(sink.ids()) == [row["delivery_id"]]
    [row] = admin.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()
    assert row["status"] == "sent"


def test_patch_and_delete(admin, people):
    endpoint = _create(admin, "https://hooks.example.test/a").json()
    patched = admin.patch(
        f"/api/v1/webhooks/{endpoint['id']}/", {"is_active": False}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert patched.json()["url"] == "https://hooks.example.test/a"
    assert admin.delete(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert admin.get(f"/api/v1/webhooks/{endpoint['id']}/").status_code == 404


def test_bad_input_names_the_field(admin, people):
    response = _create(admin, "ftp://example.test/x")
    assert response.status_code == 400 and "url" in response.json()["errors"]
    response = admin.post(
        "/api/v1/webhooks/", {"url": "https://x.test", "events": ["nope"]}, format="json"
    )
    assert response.status_code == 400 and "events" in response.json()["errors"]


def test_keys_without_the_admin_scope_cannot_see_or_manage_webhooks(api, admin, people):
    _create(admin, "https://hooks.example.test/a")
    assert api.get("/api/v1/webhooks/").status_code == 403
    assert _create(api, "https://hooks.example.test/b").status_code == 403


def test_another_tenants_endpoint_is_404(admin, api_for, people):
    theirs = _create(api_for(("read", "write", "admin"), people.globex), "https://g.test/h")
    number = theirs.json()["id"]
    assert admin.get(f"/api/v1/webhooks/{number}/").status_code == 404
    assert admin.delete(f"/api/v1/webhooks/{number}/").status_code == 404
    assert [e["id"] for e in admin.get("/api/v1/webhooks/").json()] == []


def test_the_api_answers_400_naming_the_url(admin, people, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    response = admin.post(
        "/api/v1/webhooks/",
        {"url": "http://169.254.169.254/latest/", "events": ["incident.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert "only to public addresses" in response.json()["errors"]["url"][0]
