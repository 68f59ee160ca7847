"""Logging in, to the page each role starts its day on; password reset (Django's views and mail),
throttled, with a damaged link answered as 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.urls import NoReverseMatch, reverse

from tenancy.account.services import sessions_end_all
from tenancy.forms import LoginForm
from tenancy.links import NOT_A_LINK
from tenancy.mfa import signin
from tenancy.mfa.services import has_second_factor
from tenancy.models import Membership, Role, User
from tenancy.selectors import person_memberships
from tenancy.signin_audit import password_changed_record
from tenancy.throttle import (
    PASSWORD_RESET,
    attempt_allowed,
    attempt_record,
    locked_until,
    lockout_lift,
    retry_after,
    until_text,
)

# Where each role lands after logging in: requesters report and follow in the portal, agents
# and admins work the desk's queues, managers read their dashboard. URL names, because these
# pages belong to higher layers (portal, desk, dashboards).
LANDING = {
    Role.REQUESTER: "portal-home",
    Role.AGENT: "desk-queue",
    Role.ADMIN: "desk-queue",
    Role.MANAGER: "dashboards-home",
}


def landing_url(membership: Membership) -> str:
    """The page the member starts on; the tenant's home for a role without one."""
    slug = membership.tenant.slug
    try:
        return reverse(LANDING[Role(membership.role)], kwargs={"tenant_slug": slug})
    except (KeyError, ValueError, NoReverseMatch):
        return reverse("tenant-home", kwargs={"tenant_slug": slug})


def after_login_url(request: HttpRequest) -> str:
    """Where a person just logged in starts: a member of one organisation where their role
    works, a member of several the picker."""
    user = request.user
    memberships = person_memberships(user) if isinstance(user, User) else []
    if len(memberships) == 1:
        return landing_url(memberships[0])
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """A member of one organisation goes straight to where their role works; a member of
    several picks one first (the picker). A `next` page, from a link, still wins.

    A person with a second factor is not logged in by their password alone: the session keeps
    who they are and their `next` for a few minutes, and the second step (tenancy/mfa/) logs
    them in."""

    template_name = "tenancy/login.html"
    authentication_form = LoginForm

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        if has_second_factor(user):
            signin.pending_start(self.request, user, self.get_redirect_url())
            return redirect("login-verify")
        response = super().form_valid(form)
        self.request.session[signin.AUTH_METHOD] = "password"
        self.request.session[signin.VERIFIED] = False
        return response

    def get_default_redirect_url(self) -> str:
        return after_login_url(self.request)  # logged in by now: form_valid has run


class PasswordResetView(auth_views.PasswordResetView):
    """Reset requests are counted per email and per address (tenancy/throttle.py): each one
    sends a mail, so an unthrottled form lets anyone flood an inbox. The answer is the same
    whether or not the email has an account."""

    # A platform mail, not a tenant notification: built from SITE_URL, never the Host header.
    extra_email_context = {"site_url": settings.SITE_URL}

    def form_valid(self, form) -> HttpResponse:
        name = PASSWORD_RESET + form.cleaned_data["email"].strip().lower()
        if attempt_allowed(self.request, name):
            attempt_record(self.request, name)
            return super().form_valid(form)
        until = locked_until(self.request, {"username": name})
        form.add_error(
            "email",
            "Too many reset requests for this address or from your network. Check your inbox "
            f"(and spam folder) for the mail we sent, or try again after {until_text(until)}.",
        )
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(retry_after(until))
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset link that does not verify is the plain 404 of every other link page; a
    completed reset lifts the account's log-in lock (its owner proved the mailbox is theirs)
    and is recorded in the audit log of each of the person's tenants (never the password)."""

    def render_to_response(self, context, **kwargs) -> HttpResponse:
        if not context.get("validlink"):
            raise Http404(NOT_A_LINK)
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        with transaction.atomic():  # the new password and its audit records land together
            response = super().form_valid(form)
            password_changed_record(
                user=form.user, request=self.request, how="reset by emailed link"
            )
            sessions_end_all(user=form.user)  # whoever knew the old password is signed out
        lockout_lift(form.user.get_username())
        return response
