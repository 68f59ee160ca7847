"""Resolve /t/<tenant_slug>/ to request.tenant and request.membership, or answer 404.

A tenant the user does not belong to and a tenant that does not exist get the same 404, so the
answer says nothing about which tenants exist.

It also sets the request's scope behind the second wall (tenancy/rls.py): a request starts
seeing no tenant's rows, then the signed-in person's own memberships, then its tenant's rows
once the tenant is known. The platform's admin site (superusers) reads every tenant, by name.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.utils import timezone

from tenancy import rls
from tenancy.actors import Actor
from tenancy.http import TenantRequest
from tenancy.models import Membership, Tenant


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        # Outside /t/<slug>/ these stay None (templates and context processors look at them).
        for attribute in ("tenant", "membership", "actor"):
            setattr(request, attribute, None)
        token = rls.enter(rls.NOTHING)
        try:
            response = self.get_response(request)
            if getattr(response, "streaming", False):
                # Iterated after this returns: the content's queries keep the request's scope.
                response.streaming_content = rls.within(rls.current(), response.streaming_content)
            return response
        finally:
            rls.leave(token)
            timezone.deactivate()

    def process_view(self, request: TenantRequest, view_func, view_args, view_kwargs):
        user_id = request.user.pk if request.user.is_authenticated else None
        rls.enter(rls.Scope(user_id=user_id))
        if request.resolver_match and request.resolver_match.app_name == "admin":
            rls.enter(rls.Scope(bypass=f"the platform admin site, {request.user}"))
        slug = view_kwargs.get("tenant_slug")
        if slug is None:
            return None
        if getattr(view_func, "tenant_public", False):
            # Sign-up and mail links: the tenant of the URL, if it is one; the view answers 404.
            tenant_id = Tenant.objects.filter(slug=slug).values_list("pk", flat=True).first()
            if tenant_id is not None:
                rls.enter(rls.Scope(tenant_id=tenant_id, user_id=user_id))
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
        rls.enter(rls.Scope(tenant_id=membership.tenant_id, user_id=user_id))
        request.tenant = membership.tenant
        request.membership = membership
        request.actor = Actor.member(membership)
        # Times are stored in UTC and shown in the tenant's time zone.
        timezone.activate(membership.tenant.time_zone)
        return None
