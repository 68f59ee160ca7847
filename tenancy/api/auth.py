"""Who calls the API and in which tenant: an API key fixes the tenant; a browser session names
it with the X-Tenant header (a slug the user is a member of)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

import tenancy.api.schema  # noqa: F401  (registers the schema extension)
from tenancy.actors import Actor
from tenancy.apikeys import api_key_authenticate, api_key_prefix
from tenancy.mfa.signin import requirement_unmet
from tenancy.models import ApiKey, Membership, Role
from tenancy.throttle import (
    API_KEY,
    attempt_allowed,
    attempt_record,
    locked_until,
    retry_after,
    until_text,
)


class IntegrationUser:
    """Stands in for request.user when an API key calls: an integration is never a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    pk = id = None

    def __init__(self, key: ApiKey) -> None:
        self.key = key

    def __str__(self) -> str:
        return f"integration {self.key.name}"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request):
        header = get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        key = api_key_authenticate(token)
        if key is not None:
            # A right key is never held up: nobody guesses 256 bits, and an integration that
            # shares an address with a misconfigured one keeps working.
            return IntegrationUser(key), key
        # A wrong key is counted like a failed log-in, per key and per address; past the limit
        # it is answered 429 until the cool-off ends (docs/security.md).
        name = API_KEY + api_key_prefix(token)
        raw = request._request
        if not attempt_allowed(raw, name):
            until = locked_until(raw, {"username": name})
            raise exceptions.Throttled(
                wait=retry_after(until),
                detail="Too many failed API key attempts from this key or address. Try again "
                f"after {until_text(until)}.",
            )
        attempt_record(raw, name)
        raise exceptions.AuthenticationFailed("The API key is unknown or has been revoked.")

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def resolve_actor(request) -> Actor:
    """The Actor of an authenticated API request; another tenant is a 404 like a missing one."""
    if isinstance(request.auth, ApiKey):
        return Actor.integration(request.auth.tenant, request.auth, request.auth.role)
    slug = request.headers.get("X-Tenant", "")
    memberships = Membership.objects.select_related("tenant", "user").filter(
        user=request.user, is_active=True, tenant__is_active=True
    )
    membership = (
        memberships.filter(tenant__slug=slug).first()
        if slug
        else (memberships.first() if memberships.count() == 1 else None)
    )
    if membership is None:
        if not slug:
            raise exceptions.ParseError("Name the organisation with the X-Tenant header.")
        raise exceptions.NotFound("No such organisation, or you are not a member of it.")
    if requirement_unmet(request._request, membership):
        raise exceptions.PermissionDenied(
            f"{membership.tenant.name} requires a second factor of its agents, managers and "
            "admins: log in with yours (or set one up at /account/two-factor/) first."
        )
    return Actor.member(membership)


class ApiAccess(BasePermission):
    """Scopes for keys (read, write, admin); roles for sessions. Config writes need admin."""

    message = "This key or account may not do that."

    def has_permission(self, request, view) -> bool:
        actor: Actor | None = getattr(request, "actor", None)
        if actor is None:
            return False
        safe = request.method in SAFE_METHODS
        admin_write = getattr(view, "admin_write", False) and (
            not safe or getattr(view, "admin_read", False)
        )
        if actor.kind == "integration":
            scopes = actor.api_key.scope_list
            if admin_write:
                self.message = "This key lacks the admin scope."
                return "admin" in scopes
            if not safe and "write" not in scopes:
                self.message = "This key is read-only: it lacks the write scope."
                return False
            return True
        if admin_write:
            self.message = "Only a tenant admin may change the desk's configuration."
            return actor.role == Role.ADMIN
        if actor.is_requester and getattr(view, "staff_only", False):
            self.message = "Only the desk's agents may do that."
            return False
        return True
