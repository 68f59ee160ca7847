"""A tenant that requires a second factor of its staff (Tenant.mfa_required) gets it.

Runs after TenantMiddleware has resolved the membership. An agent, manager or admin of such a
tenant whose session did not pass a second factor is sent to set one up, with the reason; one
who has a factor (set up in another session since this one began) signs in again and passes it.
Requesters are never asked. A sign-in through the tenant's identity provider (session
"desk_auth_method" = "sso") meets the requirement: the provider's own policy governs it. API
keys never pass here (no session, no /t/<slug>/ page).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from tenancy.mfa.services import has_second_factor
from tenancy.mfa.signin import requirement_unmet
from tenancy.models import User


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        membership = getattr(request, "membership", None)
        if membership is None or not requirement_unmet(request, membership):
            return None
        tenant = membership.tenant.name
        if isinstance(request.user, User) and has_second_factor(request.user):
            path = request.get_full_path()
            logout(request)
            messages.info(
                request, f"{tenant} requires a second factor: log in again and use yours."
            )
            return _go(request, redirect_to_login(path).url)
        messages.warning(
            request,
            f"{tenant} requires agents, managers and admins to use a second factor when they "
            "sign in. Set up an authenticator app or a passkey to continue; it takes a minute.",
        )
        query = urlencode({"next": request.get_full_path()})
        return _go(request, f"{reverse('mfa-home')}?{query}")


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect, which htmx follows as a whole page (a partial swap would hide the reason)."""
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)
