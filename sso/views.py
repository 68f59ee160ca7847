"""Signing in through a tenant's provider: the log-in page that sends a claimed domain there,
the page that takes the browser on, and the one callback every tenant's provider returns to.

Why a page and not a redirect: the Content-Security-Policy says `form-action 'self'`, and
Chromium applies it to the redirects that follow a form's POST, so a 302 from the log-in form to
the provider would be blocked. The page after the POST is the desk's own; its static script
(static/js/sso_redirect.js) navigates on, and a plain link does the same without script."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from sso.flow import flow_start, flow_take
from sso.models import SsoConfig
from sso.provider import ProviderError, authorization, claims_from_callback
from sso.selectors import email_domain, sso_config_for_email, sso_required_for
from sso.services import (
    email_of,
    groups_of,
    role_for,
    sso_password_refused,
    sso_sign_in,
    sso_sign_in_failed,
)
from tenancy import rls
from tenancy.auth_views import LoginView, PasswordResetView, landing_url
from tenancy.errors import Refusal
from tenancy.forms import LoginForm
from tenancy.models import Role
from tenancy.throttle import client_address

# Django's ModelBackend: the person is known by the provider's word, not a password.
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _refusal_text(config: SsoConfig, email: str) -> str:
    said = f"{config.tenant.name} signs its people in through single sign-on."
    if email_domain(email) in config.domain_list:
        return f"{said} Leave the password empty and press Log in to go to its sign-in page."
    domains = ", ".join(sorted(config.domain_list))
    return f"{said} Log in with your address at {domains}, without a password, or ask its admin."


class SsoLoginForm(LoginForm):
    def clean(self) -> dict[str, Any]:
        if self.data.get("username") and not self.data.get("password"):
            # Only an address whose organisation uses single sign-on goes on without one.
            raise forms.ValidationError(
                "Type your password as well: this address does not sign in through an "
                "organisation's single sign-on.",
                code="password_missing",
            )
        return super().clean()

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        config = sso_required_for(user)
        if config is not None:
            address = client_address(self.request) if self.request is not None else None
            sso_password_refused(config=config, user=user, address=address)
            raise forms.ValidationError(_refusal_text(config, user.email), code="sso_required")


def sso_start(
    request: HttpRequest,
    config: SsoConfig,
    *,
    login_hint: str = "",
    next_url: str = "",
    trying: bool = False,
) -> HttpResponse:
    """Begin the authorization code flow: the desk's own page that takes the browser on."""
    params = {"login_hint": login_hint} if login_hint else {}
    if trying:
        params["prompt"] = "login"  # the admin chooses which account to try
    redirect_uri = request.build_absolute_uri(reverse("sso-callback"))
    url, state = authorization(request, config, redirect_uri, **params)
    flow_start(
        request.session,
        state,
        tenant=config.tenant_id,
        next=next_url,
        trying=trying,
        admin=request.user.pk if trying else None,
        hint=login_hint,
    )
    context = {"url": url, "tenant_name": config.tenant.name}
    return render(request, "sso/redirect.html", context)


class SsoLoginView(LoginView):
    """The log-in page: an address in a domain an enabled provider claims, with no password,
    goes to that provider; everything else is the password log-in as before."""

    authentication_form = SsoLoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Whether any organisation offers it: a yes or no across tenants (tenancy/rls.py).
        with rls.bypass("the log-in page: does any organisation use SSO?", routine=True):
            context["sso_available"] = SsoConfig.objects.filter(enabled=True).exists()
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        email = request.POST.get("username", "").strip()
        config = sso_config_for_email(email) if not request.POST.get("password") else None
        if config is None:
            return super().post(request, *args, **kwargs)
        try:
            return sso_start(request, config, login_hint=email, next_url=self.get_redirect_url())
        except ProviderError as exc:
            address = client_address(request)
            sso_sign_in_failed(config=config, reason=str(exc), email=email, address=address)
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                f"{config.tenant.name}'s sign-in provider cannot be used right now: {exc} "
                "Try again in a few minutes, or ask your organisation's admin.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=502)


class SsoPasswordResetForm(PasswordResetForm):
    def get_users(self, email: str) -> Iterator[Any]:
        """Nobody whose organisation requires single sign-on gets a reset mail (its break-glass
        admin does): their password is not how they sign in."""
        return (u for u in super().get_users(email) if sso_required_for(u) is None)


class SsoPasswordResetView(PasswordResetView):
    form_class = SsoPasswordResetForm

    def form_valid(self, form) -> HttpResponse:
        email = form.cleaned_data["email"]
        config = sso_config_for_email(email)
        if config is not None and config.require_sso and not list(form.get_users(email)):
            # The domain is the organisation's, which the log-in page already shows: saying so
            # tells nothing about whether this address has an account.
            form.add_error(
                "email",
                f"{config.tenant.name} signs its people in through single sign-on, so there "
                "is no password to reset here: log in with your e-mail alone.",
            )
            return self.form_invalid(form)
        return super().form_valid(form)


def _failed(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "sso/failed.html", {"message": message}, status=status)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """Where every tenant's provider sends the browser back. Whatever goes wrong is a page in
    words with the way back to the log-in page; nobody is logged in by a failure."""
    flow = flow_take(request.session, request.GET.get("state", ""))
    if flow is None:
        return _failed(request, "This sign-in was already used or has expired. Start again.")
    # The rest of the request in the tenant the flow began for (the middleware ends the scope).
    rls.enter(rls.Scope(tenant_id=flow["tenant"], user_id=request.user.pk))
    config = SsoConfig.objects.select_related("tenant").filter(tenant_id=flow["tenant"]).first()
    address = client_address(request)
    if config is None or not (config.enabled or flow["trying"]):
        return _failed(request, "Single sign-on is not turned on for this organisation.")
    try:
        claims = claims_from_callback(request, config)
    except ProviderError as exc:
        sso_sign_in_failed(config=config, reason=str(exc), email=flow["hint"], address=address)
        return _failed(request, str(exc))
    if flow["trying"]:
        return _tried(request, config, flow, claims)
    try:
        membership = sso_sign_in(config=config, claims=claims, address=address)
    except Refusal as exc:
        email = str(claims.get(config.email_claim) or flow["hint"])
        sso_sign_in_failed(config=config, reason=exc.message, email=email, address=address)
        return _failed(request, exc.message, status=403)
    request.session["desk_auth_method"] = "sso"  # survives login(): the same person's session
    login(request, membership.user, backend=BACKEND)
    request.session["desk_auth_method"] = "sso"  # read by the second-factor rules
    return redirect(flow["next"] or landing_url(membership))


def _tried(request: HttpRequest, config: SsoConfig, flow: dict, claims: dict) -> HttpResponse:
    """An admin's "try a sign-in": what came back and what it would do, changing nothing."""
    if request.user.pk is None or request.user.pk != flow["admin"]:
        return _failed(request, "Only the admin who started this trial can read its result.")
    groups = groups_of(config, claims)
    try:
        email, problem = email_of(config, claims), ""
    except Refusal as exc:
        email, problem = str(claims.get(config.email_claim) or ""), exc.message
    context = {
        "config": config,
        "claims": sorted(
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in claims.items()
            if k not in ("nonce", "at_hash")
        ),
        "email": email,
        "problem": problem,
        "groups": groups,
        "role": Role(role_for(config, groups)).label,
    }
    return render(request, "sso/try_result.html", context)
