"""Forms of the two-factor pages and of the sign-in's second step."""

from __future__ import annotations

from django import forms

from tenancy.forms import PlainLabels


class AuthenticatorConfirmForm(PlainLabels, forms.Form):
    code = forms.CharField(
        label="The 6-digit code your app shows",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    name = forms.CharField(
        label="Name it (optional)",
        max_length=64,
        required=False,
        help_text="So you can tell your apps apart, for example “Phone”.",
    )


class PasskeyNameForm(PlainLabels, forms.Form):
    name = forms.CharField(
        label="Name of the passkey",
        max_length=64,
        help_text="So you can tell your passkeys apart, for example “Work laptop” or “Security "
        "key”.",
        widget=forms.TextInput(attrs={"autofocus": True}),
    )


class ProofForm(PlainLabels, forms.Form):
    proof = forms.CharField(
        label="Your password, or a current code of your authenticator app",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class CodeForm(PlainLabels, forms.Form):
    """The second step of signing in: a code of an authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "none"}
        ),
    )


class MfaRequirementForm(PlainLabels, forms.Form):
    mfa_required = forms.TypedChoiceField(
        label="Require a second factor for agents, managers and admins",
        choices=[
            ("on", "Required: they set up an authenticator app or a passkey before they work"),
            ("off", "Optional: each person decides"),
        ],
        coerce=lambda value: value == "on",
        widget=forms.RadioSelect,
        help_text="Requesters are never asked. People who sign in through your identity "
        "provider (single sign-on) follow its policy instead. API keys are not affected.",
    )
