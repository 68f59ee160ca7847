"""The person's own account page (/account/): their password and where they are signed in.
Every logged-in person has one, whatever their organisations and roles."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from tenancy.account import services
from tenancy.account.selectors import sessions_for_user
from tenancy.errors import Refusal
from tenancy.http import TenantRequest
from tenancy.models import STAFF_ROLES, User
from tenancy.selectors import memberships_for_user


class AccountPasswordForm(PasswordChangeForm):
    """Django's form (current password, the new one twice, the password validators), with the
    site's labels."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password1"].label = "New password"
        self.fields["new_password2"].label = "New password again"


def _mail_choices(user: User) -> list[tuple[str, str]]:
    """(organisation, link) where the person chooses which mails they get, in each
    organisation where they work: escalation's page, named by its URL name as the header did."""
    links = []
    for membership in memberships_for_user(user):
        if membership.role not in STAFF_ROLES:
            continue
        try:
            url = reverse("notifications-preferences", args=[membership.tenant.slug])
        except NoReverseMatch:
            continue
        links.append((membership.tenant.name, url))
    return links


def _page(request: TenantRequest, form: forms.Form, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "sessions": sessions_for_user(user=request.user, current_key=request.session.session_key),
        "two_factor_url": reverse("mfa-home"),
        "mail_choices": _mail_choices(request.user),
    }
    return render(request, "tenancy/account/account.html", context, status=status)


@login_required
def account(request: TenantRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, AccountPasswordForm(request.user))
    form = AccountPasswordForm(request.user, request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    ended = services.password_change(
        user=request.user,
        request=request,
        old=form.cleaned_data["old_password"],
        new=form.cleaned_data["new_password1"],
    )
    others = f" You were signed out of {ended} other session{'s' if ended != 1 else ''}."
    messages.success(request, "Your password is changed." + (others if ended else ""))
    return redirect("account")


@login_required
@require_POST
def session_end(request: TenantRequest, pk: int) -> HttpResponse:
    try:
        services.session_end(user=request.user, request=request, session_id=pk)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "That session is signed out.")
    return redirect("account")


@login_required
@require_POST
def sessions_end_others(request: TenantRequest) -> HttpResponse:
    ended = services.sessions_end_others(user=request.user, request=request)
    if ended:
        s = "s" if ended != 1 else ""
        messages.success(request, f"Signed out of {ended} other session{s}.")
    else:
        messages.success(request, "You were signed in nowhere else.")
    return redirect("account")
