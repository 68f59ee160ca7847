"""Role checks for tenant views. A role that may not see a page gets 404, like a stranger."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import Http404, HttpRequest

from tenancy.models import Role


def role_required(*roles: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None or membership.role not in roles:
                raise Http404("No such page here.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(Role.AGENT, Role.MANAGER, Role.ADMIN)
manager_required = role_required(Role.MANAGER, Role.ADMIN)
admin_required = role_required(Role.ADMIN)


def tenant_public(view: Callable) -> Callable:
    """Mark a view under /t/<slug>/ that needs no membership (sign-up, invitation links)."""
    view.tenant_public = True  # type: ignore[attr-defined]
    return view
