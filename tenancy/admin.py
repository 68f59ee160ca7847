"""The Django admin for platform operators: tenants, their members and invitations."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tenancy.errors import InvalidInput
from tenancy.models import Invitation, Membership, Tenant, User
from tenancy.services import check_time_zone, tenant_provision


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "full_name", "password"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal = ["groups"]
    list_filter = ["is_active", "is_staff", "memberships__tenant"]


class MembershipFormSet(BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls) -> str:
        # Tenant-owned FKs have no reverse accessor (related_name="+"), which would give the
        # inline a meaningless default prefix.
        return "memberships"


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    extra = 0
    raw_id_fields = ["user"]


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = [
            "slug",
            "name",
            "time_zone",
            "signup_domains",
            "confirmation_window_days",
            "is_active",
        ]

    def clean_time_zone(self) -> str:
        time_zone = self.cleaned_data["time_zone"]
        try:
            check_time_zone(time_zone)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from exc
        return time_zone


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantForm
    list_display = ["slug", "name", "time_zone", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]

    def save_model(self, request, obj: Tenant, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # The admin's change view is one transaction, so a failure here undoes the tenant.
            tenant_provision(tenant=obj)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "is_active"]
    list_filter = ["tenant", "role", "is_active"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email", "user__full_name"]
    raw_id_fields = ["user"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role", "sent_at", "accepted_at", "revoked_at"]
    list_filter = ["tenant", "role"]
    list_select_related = ["user", "tenant"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "invited_by"]
    readonly_fields = ["key", "send_count", "sent_at", "accepted_at", "revoked_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # invitations are sent from the tenant's members page, which emails them


def _desk_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's own log-in form would sign an operator in by their password alone, past their
    second factor (tenancy/mfa/): operators sign in through the desk's log-in page instead, and
    the admin's form is never shown (nor takes a POST)."""
    next_url = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    next_url = next_url or reverse("admin:index")
    if request.user.is_active and request.user.is_staff:
        return redirect(next_url)
    return redirect_to_login(next_url)


admin.site.login = _desk_login  # type: ignore[method-assign]
