from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Incident
from tenancy.models import IdempotencyRecord
from tenancy.tasks import purge_idempotency
from tests.concurrency import run_together


def _post(client, body, key="k-1"):
    return client.post("/api/v1/incidents/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeat_with_the_same_body_replays_the_first_answer_and_creates_nothing(api, people):
    first = _post(api, {"title": "Wifi down"})
    second = _post(api, {"title": "Wifi down"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_the_same_key_with_another_body_is_422(api, people):
    _post(api, {"title": "Wifi down"})
    response = _post(api, {"title": "Wifi up"})
    assert response.status_code == 422
    assert "different request" in response.json()["detail"]
    assert Incident.objects.count() == 1


def test_a_refused_first_answer_is_replayed_too(api, people):
    first = _post(api, {"title": ""}, key="bad")
    second = _post(api, {"title": ""}, key="bad")
    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()


def test_keys_belong_to_one_integration(api_for, people):
    one, two = api_for(), api_for(("read", "write", "admin"))
    assert _post(one, {"title": "A"}).status_code == 201
    assert _post(two, {"title": "A"}).status_code == 201
    assert Incident.objects.count() == 2


def test_a_transition_repeat_does_not_run_twice(api, people):
    api.post("/api/v1/incidents/", {"title": "VPN", "category": "network"}, format="json")
    url = "/api/v1/incidents/INC-000001/accept/"
    body = {"assignee": people.alice.email}
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="acc")
    second = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="acc")
    assert first.status_code == second.status_code == 200
    assert Incident.objects.get().events.filter(transition="accept").count() == 1


@pytest.mark.postgres
def test_concurrent_repeats_create_one_incident(transactional_db, people, make_key):
    secret = make_key()

    def send() -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return _post(client, {"title": "Storm"}, key="same").status_code

    statuses = [value for _, value in run_together(*[send] * 8)]
    assert Incident.objects.count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}


def test_beat_forgets_answers_past_the_keep_time_and_the_key_works_afresh(api, people, settings):
    assert settings.CELERY_BEAT_SCHEDULE["purge-idempotency"]["task"] == purge_idempotency.name
    first = _post(api, {"title": "VPN down"}, key="old")
    _post(api, {"title": "Printer jam"}, key="new")
    old = IdempotencyRecord.objects.get(key="old")
    hours = settings.IDEMPOTENCY_KEEP_HOURS + 1
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )

    assert purge_idempotency.delay().get() == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    again = _post(api, {"title": "VPN down"}, key="old")  # a new request now, not a replay
    assert again.status_code == 201
    assert again.json()["number"] != first.json()["number"]
