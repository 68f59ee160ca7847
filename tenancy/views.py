"""The tenant picker, tenant home, and the public pages reached from emails or the sign-up link."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from tenancy import services
from tenancy.decorators import tenant_public
from tenancy.errors import Refusal
from tenancy.forms import AccountPasswordForm, SignupForm, show_refusal
from tenancy.http import TenantRequest
from tenancy.links import invitation_from_token, signup_from_token
from tenancy.models import Membership, Tenant, User
from tenancy.selectors import memberships_for_user
from tenancy.selectors import tenant_public as public_tenant


@login_required
def home(request: TenantRequest) -> HttpResponse:
    """The tenant picker; a user with one organisation goes straight to it."""
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("tenant-home", tenant_slug=memberships[0].tenant.slug)
    return render(request, "tenancy/picker.html", {"memberships": memberships})


def tenant_home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "tenancy/tenant_home.html", {})


def _public(request: TenantRequest, slug: str) -> Tenant:
    request.tenant = public_tenant(slug)  # for the page's title; no membership is implied
    return request.tenant


def _refused(request: TenantRequest, exc: Refusal, title: str) -> HttpResponse:
    """A genuine link that no longer works (expired, used, withdrawn): 410 Gone, and why."""
    context = {"title": title, "message": exc.message}
    return render(request, "tenancy/link_refused.html", context, status=410)


def _welcome(request: TenantRequest, membership: Membership, *, log_in: bool) -> HttpResponse:
    tenant = membership.tenant
    home = reverse("tenant-home", kwargs={"tenant_slug": tenant.slug})
    if log_in:
        login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    if log_in or request.user == membership.user:
        messages.success(request, f"Welcome to {tenant.name}'s service desk.")
        return redirect(home)
    messages.success(
        request, f"You joined {tenant.name}. Log in with your email and your existing password."
    )
    return redirect_to_login(home)


def _join_page(
    request: TenantRequest,
    *,
    person: User,
    title: str,
    template: str,
    context: dict,
    join: Callable[..., Membership],
) -> HttpResponse:
    """A new person picks a name and password; someone with an account only confirms.

    A GET never uses the link up: mail scanners open links before people do.
    """
    new_account = not person.has_usable_password()
    form = AccountPasswordForm(person, request.POST or None) if new_account else None
    if request.method == "POST" and (form is None or form.is_valid()):
        data = form.cleaned_data if form else {}
        try:
            membership = join(
                password=data.get("new_password1", ""), full_name=data.get("full_name", "")
            )
        except Refusal as exc:
            return _refused(request, exc, title)
        return _welcome(request, membership, log_in=new_account)
    return render(request, template, {**context, "form": form})


@tenant_public
def invitation_accept(request: TenantRequest, tenant_slug: str, token: str) -> HttpResponse:
    try:
        invitation = invitation_from_token(tenant_slug=tenant_slug, token=token)
    except Refusal as exc:
        return _refused(request, exc, "Invitation")
    request.tenant = invitation.tenant  # for the page's title; no membership is implied
    return _join_page(
        request,
        person=invitation.user,
        title="Invitation",
        template="tenancy/invitation_accept.html",
        context={"invitation": invitation},
        join=partial(services.invitation_accept, invitation=invitation),
    )


@tenant_public
def signup(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = _public(request, tenant_slug)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signup_request(tenant=tenant, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            email = form.cleaned_data["email"]
            messages.success(request, f"We sent a confirmation link to {email}.")
            return redirect("tenancy-signup-sent", tenant_slug=tenant.slug)
    context = {"form": form, "signup_open": bool(tenant.signup_domain_list)}
    return render(request, "tenancy/signup.html", context)


@tenant_public
def signup_sent(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    _public(request, tenant_slug)
    return render(request, "tenancy/signup_sent.html", {})


@tenant_public
def signup_confirm(request: TenantRequest, tenant_slug: str, token: str) -> HttpResponse:
    try:
        claim = signup_from_token(tenant_slug=tenant_slug, token=token)
    except Refusal as exc:
        return _refused(request, exc, "Sign-up")
    request.tenant = claim.tenant
    person = User.objects.filter(email__iexact=claim.email).first()
    if person is None:
        person = User(email=claim.email, full_name=claim.full_name)
        person.set_unusable_password()  # not saved: the form's validators compare against it
    return _join_page(
        request,
        person=person,
        title="Sign-up",
        template="tenancy/signup_confirm.html",
        context={"claim": claim},
        join=partial(services.requester_signup, claim=claim),
    )
