"""Resolve /t/<tenant_slug>/ to request.tenant and request.membership, or answer 404.

A tenant the user does not belong to and a tenant that does not exist get the same 404, so the
answer says nothing about which tenants exist.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.utils import timezone

from tenancy.actors import Actor
from tenancy.http import TenantRequest
from tenancy.models import Membership


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Outside /t/<slug>/ these stay None (templates and context processors look at them).
        for attribute in ("tenant", "membership", "actor"):
            setattr(request, attribute, None)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request: TenantRequest, view_func, view_args, view_kwargs):
        slug = view_kwargs.get("tenant_slug")
        if slug is None or getattr(view_func, "tenant_public", False):
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership = (
            Membership.objects.select_related("tenant", "user")
            .filter(tenant__slug=slug, tenant__is_active=True, user=request.user, is_active=True)
            .first()
        )
        if membership is None:
            raise Http404("No organisation here, or you are not a member of it.")
        request.tenant = membership.tenant
        request.membership = membership
        request.actor = Actor.member(membership)
        # Times are stored in UTC and shown in the tenant's time zone.
        timezone.activate(membership.tenant.time_zone)
        return None
