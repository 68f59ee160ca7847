"""The tenant admin's settings: the settings home, the tenant's own settings (general) and
the members page."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tenancy import services
from tenancy.audit_log import AuditRetentionForm
from tenancy.decorators import admin_required
from tenancy.errors import Refusal
from tenancy.forms import ConfirmationWindowForm, InviteForm, show_refusal
from tenancy.http import TenantRequest
from tenancy.inputs import query_text
from tenancy.mfa import services as mfa_services
from tenancy.mfa.forms import MfaRequirementForm
from tenancy.mfa.services import users_with_second_factor
from tenancy.models import Invitation, Membership, Role
from tenancy.selectors import invitations_pending, members_for_tenant
from tenancy.services import tenant_audit_retention_set
from tenancy.settings_areas import settings_areas
from tenancy.throttle import lockouts_for

MEMBERS_PER_PAGE = 50


@admin_required
def settings_home(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    context = {"sections": settings_areas(tenant_slug)}
    return render(request, "tenancy/settings_home.html", context)


def _mfa_said(required: bool) -> str:
    if required:
        return (
            "Agents, managers and admins now need a second factor: each is asked to set one up "
            "the next time they open a page here."
        )
    return "A second factor is now optional for everyone here."


# Each form of the General page: its field, the service that sets it, what success says.
GENERAL_FORMS: dict[str, tuple[type, Callable[..., object], Callable[..., str]]] = {
    "confirmation_window_days": (
        ConfirmationWindowForm,
        lambda actor, days: services.tenant_confirmation_window_set(actor=actor, days=days),
        "Resolved incidents now close after {} business days.".format,
    ),
    "audit_retention_days": (
        AuditRetentionForm,
        lambda actor, days: tenant_audit_retention_set(actor=actor, days=days),
        "The audit log now keeps records for {} days.".format,
    ),
    "mfa_required": (
        MfaRequirementForm,
        lambda actor, required: services.tenant_mfa_required_set(actor=actor, required=required),
        _mfa_said,
    ),
}


def _initial(field: str, value: object) -> object:
    if field == "mfa_required":
        return "on" if value else "off"
    return value


@admin_required
def general(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The tenant's own settings: the auto-close window of resolved incidents, how long the
    audit log keeps records, and whether staff need a second factor (a form of each: each
    button saves its own setting, and a refused value keeps what was typed while the other forms
    show the stored ones)."""
    tenant = request.tenant
    forms = {
        field: form_class(initial={field: _initial(field, getattr(tenant, field))})
        for field, (form_class, _, _) in GENERAL_FORMS.items()
    }
    posted = next((f for f in GENERAL_FORMS if request.method == "POST" and f in request.POST), "")
    if posted:
        form_class, service, said = GENERAL_FORMS[posted]
        form = forms[posted] = form_class(request.POST)
        if form.is_valid():
            value = form.cleaned_data[posted]
            try:
                service(request.actor, value)
            except Refusal as exc:
                show_refusal(form, exc)
            else:
                messages.success(request, said(value))
                return redirect("settings-general", tenant_slug=tenant_slug)
    context = {
        "form": forms["confirmation_window_days"],
        "retention_form": forms["audit_retention_days"],
        "mfa_form": forms["mfa_required"],
    }
    return render(request, "tenancy/settings_general.html", context)


@admin_required
def members(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.membership_invite(actor=request.actor, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            again = " A new link replaces the earlier one." if invitation.send_count > 1 else ""
            messages.success(request, f"Invitation sent to {invitation.user.email}.{again}")
            return redirect("settings-members", tenant_slug=tenant_slug)
    search = query_text(request.GET.get("q", ""))
    members = members_for_tenant(tenant=request.tenant, search=search)
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    locked = lockouts_for([m.user.email for m in page.object_list])
    with_factor = users_with_second_factor(m.user_id for m in page.object_list)
    context = {
        "form": form,
        "page": page,
        # Each member shown, with when their log-ins are paused until (None: they are not) and
        # whether they have a second factor.
        "member_rows": [
            (m, locked.get(m.user.email.lower()), m.user_id in with_factor)
            for m in page.object_list
        ],
        "search": search,
        "invitations": invitations_pending(tenant=request.tenant),
        "roles": Role.choices,
    }
    return render(request, "tenancy/settings_members.html", context)


def _member_action(
    request: TenantRequest, pk: int, act: Callable[[Membership], str]
) -> HttpResponse:
    """Run one change on a member of this tenant and go back to the members page."""
    membership = get_object_or_404(
        Membership.objects.for_tenant(request.tenant).select_related("user"), pk=pk
    )
    try:
        messages.success(request, act(membership))
    except Refusal as exc:
        messages.error(request, exc.message)
    if pk == request.membership.pk:
        own = Membership.objects.for_tenant(request.tenant).get(pk=pk)
        if not own.is_active:  # the admin left: nothing here is theirs any more
            return redirect("home")
        if own.role != Role.ADMIN:
            return redirect("tenant-home", tenant_slug=request.tenant.slug)
    return redirect("settings-members", tenant_slug=request.tenant.slug)


@admin_required
@require_POST
def member_role(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    def act(membership: Membership) -> str:
        membership = services.membership_set_role(
            actor=request.actor, membership=membership, role=request.POST.get("role", "")
        )
        return f"{membership.user.display_name} is now {membership.get_role_display().lower()}."

    return _member_action(request, pk, act)


def _deactivate(actor, membership: Membership) -> str:
    name = membership.user.display_name
    handed = services.member_leave(actor=actor, membership=membership)
    history = "Their history stays." if handed else "Their incidents and history stay."
    return " ".join([f"{name} is deactivated.", *handed, history])


def _reactivate(actor, membership: Membership) -> str:
    services.membership_reactivate(actor=actor, membership=membership)
    return f"{membership.user.display_name} is active again."


def _unlock(actor, membership: Membership) -> str:
    services.membership_lockout_lift(actor=actor, membership=membership)
    return f"{membership.user.display_name} can log in again now."


# What the status buttons do; each returns what the admin is told afterwards.
STATUS_CHANGES: dict[str, Callable[..., str]] = {
    "deactivate": _deactivate,
    "reactivate": _reactivate,
    "unlock": _unlock,
}


@admin_required
@require_POST
def member_status(request: TenantRequest, tenant_slug: str, pk: int, change: str) -> HttpResponse:
    change_to = STATUS_CHANGES[change]
    return _member_action(request, pk, lambda membership: change_to(request.actor, membership))


@admin_required
def member_mfa_reset(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """Asks first (the person must set up their factors again), then resets."""
    membership = get_object_or_404(
        Membership.objects.for_tenant(request.tenant).select_related("user"), pk=pk
    )
    if request.method != "POST":
        return render(request, "tenancy/settings_member_mfa_reset.html", {"member": membership})

    def act(membership: Membership) -> str:
        gone = mfa_services.membership_mfa_reset(actor=request.actor, membership=membership)
        name = membership.user.display_name
        if not gone:
            return f"{name} has no second factor to reset."
        return (
            f"The second factors of {name} are removed ({', '.join(gone)}). They can log in with "
            "their password alone, and will be asked to set up a new one where it is required."
        )

    return _member_action(request, pk, act)


@admin_required
@require_POST
def invitation_revoke(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    invitation = get_object_or_404(
        Invitation.objects.for_tenant(request.tenant).select_related("user"), pk=pk
    )
    services.invitation_revoke(actor=request.actor, invitation=invitation)
    messages.success(request, f"The invitation to {invitation.user.email} was withdrawn.")
    return redirect("settings-members", tenant_slug=tenant_slug)
