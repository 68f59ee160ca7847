"""Teach drf-spectacular about our authentication, so the schema names the bearer scheme."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenancy.api.auth.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created by a tenant admin: `Authorization: Bearer sdk_...`",
        }


PROBLEM_STATUSES = {
    "400": "Invalid request (a field map in `errors`)",
    "401": "No or unknown credentials",
    "403": "The key or account may not do this",
    "404": "No such resource in this tenant",
    "409": "Conflict: a transition not allowed now, a stale write, an idempotent request in flight",
    "412": "If-Match no longer matches",
    "413": "Payload too large",
    "415": "Unsupported media type",
    "422": "Idempotency-Key reused with a different request",
    "429": "Rate limit exceeded (see Retry-After)",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "allowed": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["type", "title", "status", "detail"],
}


def add_problem_responses(result, generator, request, public):
    """Document the problem+json answers every operation may give."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, description in PROBLEM_STATUSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/problem+json": {"schema": ref}},
                    },
                )
    return result
