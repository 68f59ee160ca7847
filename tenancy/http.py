"""The request type of tenant pages, so that type checkers know what TenantMiddleware sets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from tenancy.actors import Actor
    from tenancy.models import Membership, Tenant, User


class TenantRequest(HttpRequest):
    """A request under /t/<slug>/. Views annotate with it; nothing instantiates it."""

    tenant: Tenant
    membership: Membership
    actor: Actor
    user: User  # type: ignore[assignment]  # tenant pages are for logged-in people
