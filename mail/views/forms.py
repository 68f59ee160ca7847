"""Forms of the email settings pages. They only parse input; mail.services.admin judges it."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from incidents.models import Category, Level
from mail.models import ImapSecurity, IntakeAddress, MailPolicy, UnknownSenders
from tenancy.forms import PlainLabels
from tenancy.models import Tenant

PASSWORD_HELP = "Stored, never shown again. Leave blank to keep the saved password."


class IntakeAddressForm(PlainLabels, forms.Form):
    # A plain text field: the service judges the address, with one message for pages and API.
    address = forms.CharField(
        label="Address",
        max_length=254,
        widget=forms.EmailInput,
        help_text="Mail sent here becomes incidents and replies, e.g. help@example.com.",
    )
    category = forms.ModelChoiceField(
        label="Category",
        queryset=Category.objects.none(),
        required=False,
        empty_label="No category",
        help_text="New incidents from this address get this category (and its routing).",
    )
    impact = forms.ChoiceField(label="Impact", choices=Level.choices, initial=Level.MEDIUM)
    urgency = forms.ChoiceField(label="Urgency", choices=Level.choices, initial=Level.MEDIUM)
    imap_enabled = forms.BooleanField(
        label="Also poll a mailbox over IMAP",
        required=False,
        help_text="For an address whose mail goes to an existing mailbox instead of the "
        "desk's SMTP intake.",
    )
    imap_host = forms.CharField(label="IMAP server", max_length=255, required=False)
    imap_port = forms.IntegerField(
        label="IMAP port", min_value=1, max_value=65535, initial=993, required=False
    )
    imap_security = forms.ChoiceField(
        label="Connection security", choices=ImapSecurity.choices, initial=ImapSecurity.SSL
    )
    imap_username = forms.CharField(label="IMAP user name", max_length=255, required=False)
    # Write-only: never drawn back into the page, not even after a refusal.
    imap_password = forms.CharField(
        label="IMAP password",
        max_length=255,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )
    imap_folder = forms.CharField(
        label="IMAP folder", max_length=255, required=False, initial="INBOX"
    )

    def __init__(
        self, *args: Any, tenant: Tenant, current: IntakeAddress | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        categories = Category.objects.for_tenant(tenant).filter(is_active=True)
        if current is not None and current.category_id:
            # An address may keep a category deactivated since it was chosen.
            categories = (
                Category.objects.for_tenant(tenant).filter(pk=current.category_id) | categories
            )
        self.fields["category"].queryset = categories.order_by("name")  # type: ignore[attr-defined]
        if current is None:
            self.fields["imap_password"].help_text = "Stored, never shown again."

    def clean_imap_port(self) -> int:
        return self.cleaned_data.get("imap_port") or 993

    @staticmethod
    def initial_for(intake: IntakeAddress) -> dict[str, Any]:
        return {
            "address": intake.address,
            "category": intake.category_id,
            "impact": intake.impact,
            "urgency": intake.urgency,
            "imap_enabled": intake.imap_enabled,
            "imap_host": intake.imap_host,
            "imap_port": intake.imap_port,
            "imap_security": intake.imap_security,
            "imap_username": intake.imap_username,
            "imap_folder": intake.imap_folder,
        }


class MailPolicyForm(PlainLabels, forms.Form):
    unknown_senders = forms.ChoiceField(
        label="Mail from people who are not members of this desk",
        choices=UnknownSenders.choices,
        widget=forms.RadioSelect,
    )
    allowed_domains = forms.CharField(
        label="Domains accepted",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line, or separated by commas, e.g. example.com. Used when only "
        "the listed domains are accepted.",
    )

    def clean_allowed_domains(self) -> list[str]:
        text = self.cleaned_data.get("allowed_domains") or ""
        return [d for d in re.split(r"[\s,;]+", text) if d]

    @staticmethod
    def initial_for(policy: MailPolicy) -> dict[str, Any]:
        return {
            "unknown_senders": policy.unknown_senders,
            "allowed_domains": "\n".join(policy.allowed_domains),
        }
