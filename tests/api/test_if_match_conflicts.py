"""The API under the desk's conflict rule (incidents/services/conflicts.py): If-Match stays
HTTP's strict precondition, and its 412 says what changed since in the desk's words; replies
take no If-Match and go through whatever changed."""

from __future__ import annotations

from incidents import services
from incidents.models import Incident
from tests.api.helpers import problem


def _report(api) -> str:
    response = api.post(
        "/api/v1/incidents/", {"title": "Mail down", "category": "network"}, format="json"
    )
    return response["ETag"]


def test_a_stale_if_match_names_who_changed_what_in_words(api, people):
    etag = _report(api)
    incident = Incident.objects.get()
    services.incident_accept(incident=incident, actor=people.actor(people.bob))
    body = problem(
        api.patch(
            "/api/v1/incidents/INC-000001/",
            {"urgency": "high", "reason": "CEO affected"},
            format="json",
            HTTP_IF_MATCH=etag,
        ),
        412,
    )
    assert (
        f"your If-Match was {etag}: since then Bob Agent moved it to in progress."
        in (body["detail"])
    )
    assert Incident.objects.get().urgency == "medium"


def test_a_reply_goes_through_after_any_change(api, people):
    _report(api)
    services.incident_accept(incident=Incident.objects.get(), actor=people.actor(people.bob))
    response = api.post(
        "/api/v1/incidents/INC-000001/comments/", {"body": "Any news?"}, format="json"
    )
    assert response.status_code == 201
