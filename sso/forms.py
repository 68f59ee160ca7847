"""The settings page's form: the whole configuration in one form, the secret write-only."""

from __future__ import annotations

from typing import Any

from django import forms

from sso.models import DEFAULT_SCOPES, SsoConfig
from sso.services import SsoSettings
from tenancy.forms import PlainLabels
from tenancy.models import Membership, Role, Tenant


class AdminChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return f"{obj.user.display_name} ({obj.user.email})"


class SsoConfigForm(PlainLabels, forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Turn single sign-on on",
        help_text="Off: the settings are kept and can be tested, and nobody is sent to the "
        "provider.",
    )
    issuer_url = forms.URLField(
        label="Issuer URL",
        max_length=500,
        assume_scheme="https",
        help_text="The provider's issuer, e.g. https://login.example.com/realms/staff, or its "
        "discovery document (…/.well-known/openid-configuration).",
    )
    client_id = forms.CharField(label="Client id", max_length=255)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    scopes = forms.CharField(max_length=255, initial=DEFAULT_SCOPES)
    email_claim = forms.CharField(label="E-mail claim", max_length=100, initial="email")
    groups_claim = forms.CharField(label="Groups claim", max_length=100, initial="groups")
    domains = forms.CharField(
        label="E-mail domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line. People whose address is in one of them are sent to the "
        "provider by the log-in page. Each domain belongs to one organisation only.",
    )
    group_roles = forms.CharField(
        label="Groups and roles",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line: the provider's group = a role (requester, agent, manager or "
        "admin). Someone in several groups gets the highest role.",
    )
    default_role = forms.ChoiceField(
        label="Role of people in none of these groups", choices=Role.choices
    )
    sync_roles = forms.BooleanField(
        required=False, label="Roles follow the provider's groups at each sign-in"
    )
    require_sso = forms.BooleanField(
        required=False,
        label="Require single sign-on for everyone",
        help_text="Password log-in and password reset are refused, except for the break-glass "
        "admin.",
    )
    break_glass = AdminChoice(
        queryset=Membership.objects.none(),
        required=False,
        label="Break-glass admin",
        empty_label="Nobody",
        help_text="An admin who may still log in with a password if the provider fails.",
    )

    def __init__(self, *args: Any, tenant: Tenant, has_secret: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["break_glass"]
        field.queryset = (  # type: ignore[attr-defined]
            Membership.objects.for_tenant(tenant)
            .filter(role=Role.ADMIN, is_active=True)
            .select_related("user")
            .order_by("user__email")
        )
        self.fields["client_secret"].help_text = (
            "Stored and never shown. Leave blank to keep it."
            if has_secret
            else "The secret the provider issued with the client id."
        )

    def clean_domains(self) -> list[str]:
        return self.cleaned_data["domains"].replace(",", " ").split()

    def clean_group_roles(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate(self.cleaned_data["group_roles"].splitlines(), 1):
            if not line.strip():
                continue
            group, sep, role = line.rpartition("=")
            role = role.strip().lower()
            if not sep or not group.strip() or role not in Role.values:
                raise forms.ValidationError(
                    f"Line {number} ({line.strip()}): write the group, '=', then one of "
                    f"{', '.join(Role.values)}."
                )
            mapping[group.strip()] = role
        return mapping

    def settings(self) -> SsoSettings:
        data = self.cleaned_data
        return SsoSettings(
            issuer_url=data["issuer_url"],
            client_id=data["client_id"],
            client_secret=data["client_secret"] or None,
            scopes=data["scopes"],
            email_claim=data["email_claim"],
            groups_claim=data["groups_claim"],
            domains=data["domains"],
            group_roles=data["group_roles"],
            default_role=data["default_role"],
            sync_roles=data["sync_roles"],
            require_sso=data["require_sso"],
            break_glass=data["break_glass"],
            enabled=data["enabled"],
        )


def initial_from(config: SsoConfig | None) -> dict[str, Any]:
    if config is None:
        return {"default_role": Role.REQUESTER}
    return {
        "enabled": config.enabled,
        "issuer_url": config.issuer_url,
        "client_id": config.client_id,
        "scopes": config.scopes,
        "email_claim": config.email_claim,
        "groups_claim": config.groups_claim,
        "domains": "\n".join(sorted(config.domain_list)),
        "group_roles": "\n".join(f"{g} = {r}" for g, r in sorted(config.group_roles.items())),
        "default_role": config.default_role,
        "sync_roles": config.sync_roles,
        "require_sso": config.require_sso,
        "break_glass": config.break_glass_id,
    }
