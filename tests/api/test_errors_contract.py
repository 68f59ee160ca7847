"""Each error status of the contract, as application/problem+json."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from incidents.models import Incident
from tests.api.helpers import problem as _problem


@pytest.fixture
def incident(api):
    api.post("/api/v1/incidents/", {"title": "Mail down", "category": "network"}, format="json")
    return "INC-000001"


def test_no_credentials_is_401_with_a_bearer_challenge(people):
    response = APIClient().get("/api/v1/incidents/")
    _problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_or_made_up_key_is_401(people, make_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer sdk_deadbeef00_nothing")
    body = _problem(client.get("/api/v1/incidents/"), 401)
    assert "unknown or has been revoked" in body["detail"]


def test_a_read_only_key_writing_is_403(api_for, people):
    body = _problem(
        api_for(("read",)).post("/api/v1/incidents/", {"title": "x"}, format="json"), 403
    )
    assert "read-only" in body["detail"]
    assert Incident.objects.count() == 0


def test_another_tenants_number_is_404(api_for, incident, people):
    _problem(api_for(tenant=people.globex).get(f"/api/v1/incidents/{incident}/"), 404)


def test_a_malformed_number_is_404_not_500(api):
    _problem(api.get("/api/v1/incidents/INC-abc/"), 404)
    _problem(api.get("/api/v1/incidents/99999999999999/"), 404)


def test_malformed_json_is_400(api):
    response = api.generic(
        "POST", "/api/v1/incidents/", "{not json", content_type="application/json"
    )
    _problem(response, 400)


def test_an_unsupported_media_type_is_415(api):
    response = api.generic("POST", "/api/v1/incidents/", "title=x", content_type="text/plain")
    _problem(response, 415)


def test_a_refused_attachment_type_is_415_and_too_large_is_413(api, incident, settings):
    exe = SimpleUploadedFile("tool.exe", b"MZ....", content_type="application/octet-stream")
    _problem(api.post(f"/api/v1/incidents/{incident}/attachments/", {"file": exe}), 415)
    settings.ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("log.txt", b"x" * 11, content_type="text/plain")
    _problem(api.post(f"/api/v1/incidents/{incident}/attachments/", {"file": big}), 413)


def test_a_stale_if_match_is_412_and_changes_nothing(api, incident):
    response = api.patch(
        f"/api/v1/incidents/{incident}/",
        {"title": "New title"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    _problem(response, 412)
    assert Incident.objects.get().title == "Mail down"


@pytest.mark.parametrize("tag", ['"²"', '"' + "9" * 5000 + '"'])
def test_an_if_match_in_odd_digits_is_412_not_a_500(api, incident, tag):
    response = api.patch(
        f"/api/v1/incidents/{incident}/", {"title": "New title"}, format="json", HTTP_IF_MATCH=tag
    )
    _problem(response, 412)
    assert Incident.objects.get().title == "Mail down"


def test_an_incident_number_in_odd_digits_is_404(api):
    _problem(api.get("/api/v1/incidents/INC-²/"), 404)


def test_a_matching_if_match_applies_and_returns_the_new_etag(api, incident):
    etag = api.get(f"/api/v1/incidents/{incident}/")["ETag"]
    response = api.patch(
        f"/api/v1/incidents/{incident}/",
        {"title": "Mail down for everyone"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Mail down for everyone"
    assert response["ETag"] != etag


def test_a_wrong_transition_is_409_with_the_allowed_list(api, incident):
    body = _problem(
        api.post(f"/api/v1/incidents/{incident}/reopen/", {"reason": "x"}, format="json"), 409
    )
    assert body["allowed"] == ["escalate", "accept", "hold", "resolve", "cancel"]


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    statuses = [api.get("/api/v1/categories/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/categories/")
    _problem(response, 429)
    assert 1 <= int(response["Retry-After"]) <= 61


def test_resolve_without_notes_names_the_field(api, incident):
    body = _problem(
        api.post(f"/api/v1/incidents/{incident}/resolve/", {"resolution_code": "x"}, format="json"),
        400,
    )
    assert "resolution_notes" in body["errors"]


def test_an_unknown_resolution_code_is_a_field_error(api, people, incident):
    alice = people.alice.email
    api.post(f"/api/v1/incidents/{incident}/accept/", {"assignee": alice}, format="json")
    body = _problem(
        api.post(
            f"/api/v1/incidents/{incident}/resolve/",
            {"resolution_code": "nope", "resolution_notes": "Fixed"},
            format="json",
        ),
        400,
    )
    assert "resolution_code" in body["errors"]


@override_settings(DEBUG=False)
def test_a_method_not_allowed_is_405_problem(api):
    _problem(api.delete("/api/v1/incidents/"), 405)
