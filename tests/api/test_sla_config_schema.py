"""The SLA configuration endpoints under schemathesis with an admin key, so their writes are
fuzzed too (the suite-wide run uses a read/write key, which these endpoints refuse with 403):
no input gives a server error, and every answer matches the schema."""

import pytest
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.test_schema import keep_the_test_connection, schema

__all__ = ["keep_the_test_connection"]  # the fixture, for pytest

sla_config = schema.include(path_regex=r"/api/v1/(sla/|escalation-policies/)")


def test_the_fuzzed_paths_are_the_sla_configuration():
    paths = {op.ok().path.removeprefix("/api/v1") for op in sla_config.get_all_operations()}
    assert paths == {
        "/sla/calendars/", "/sla/calendars/{id}/", "/sla/policies/", "/sla/policies/{priority}/",
        "/escalation-policies/", "/escalation-policies/{id}/",
    }  # fmt: skip


@pytest.fixture
def admin_key(people, make_key, keep_the_test_connection):
    return make_key(("read", "write", "admin"))


@sla_config.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_admin_writes_never_error_and_match_the_schema(case, admin_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin_key}"},
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
