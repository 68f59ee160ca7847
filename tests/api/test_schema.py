"""The OpenAPI schema is valid, and the API answers every generated request without a server
error and as the schema says (schemathesis, bounded)."""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from servicedesk.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_the_docs_page_works_offline(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.content
    assert b"cdn" not in page.content.lower()


@pytest.fixture(autouse=True)
def _one_connection_per_test():
    """Schemathesis calls the WSGI app directly, and Django's request signals would close the
    test's connection between calls (Django's own test client disconnects them the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def keep_the_test_connection():
    """schemathesis calls the WSGI app itself, whose request signals would close the test's
    database connection mid-transaction; Django's test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_key(people, make_key, keep_the_test_connection):
    return make_key(("read", "write"))


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_never_errors_and_matches_its_schema(case, fuzz_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {fuzz_key}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_real_sla_alert_and_configuration_answers_match_the_schema(
    people, make_key, keep_the_test_connection, travel
):
    """The fuzzer meets few real clocks or alerts: validate answers built from real ones."""
    from escalation.models import SlaAlert
    from escalation.services.sweep import sweep_due
    from incidents import services
    from tests.escalation.sla_helpers import fast_escalation, report_high, short_targets

    short_targets(people.acme, response=100, resolution=1000)
    fast_escalation(people.acme, (60, "manager", None))
    incident = report_high(people)
    services.incident_hold(
        incident=incident, actor=people.actor(people.alice), hold_reason="awaiting_caller"
    )
    travel(seconds=70)
    sweep_due()
    alert = SlaAlert.objects.filter(incident_id=incident.pk).first()
    auth = {"Authorization": f"Bearer {make_key(('read', 'write', 'admin'))}"}
    number = {"number": incident.reference}
    calls = [
        ("/api/v1/incidents/{number}/sla/", "GET", number, None),
        ("/api/v1/incidents/{number}/alerts/", "GET", number, None),
        (
            "/api/v1/incidents/{number}/alerts/{alert_id}/acknowledge/",
            "POST",
            {**number, "alert_id": alert.pk},
            None,
        ),
        ("/api/v1/categories/", "POST", {}, {"name": "Phones", "group": "service-desk"}),
        ("/api/v1/categories/{slug}/", "PATCH", {"slug": "phones"}, {"is_active": False}),
        ("/api/v1/groups/", "POST", {}, {"name": "Field", "lead": "alice@acme.test"}),
        ("/api/v1/groups/{slug}/", "GET", {"slug": "field"}, None),
        ("/api/v1/resolution-codes/", "POST", {}, {"label": "Replaced"}),
        ("/api/v1/resolution-codes/{slug}/", "PATCH", {"slug": "replaced"}, {"label": "New"}),
    ]
    for path, method, parameters, body in calls:
        operation = schema[path][method]
        extra = {} if body is None else {"body": body, "media_type": "application/json"}
        case = operation.Case(path_parameters=parameters, headers=auth, **extra)
        response = case.call_and_validate(
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )
        assert response.status_code in (200, 201), (path, response.text)


@pytest.mark.postgres  # integer bounds in the schema follow the database's column sizes
def test_the_schema_is_unchanged_by_moving_code(tmp_path):
    """Moving code between apps and packages changed no path, operation or schema of the API:
    the schema is the one committed before the move, generated on PostgreSQL (regenerate it
    only with a deliberate API change, and say so in CHANGELOG.md)."""
    import json
    from pathlib import Path

    out = tmp_path / "now.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    before = Path(__file__).parent.parent / "fixtures" / "openapi-before-layers.json"
    assert json.loads(out.read_text()) == json.loads(before.read_text())
