from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm

from tenancy.errors import Refusal
from tenancy.models import Role, User
from tenancy.selectors import person_memberships


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. Check both and try "
        "again.",
        "inactive": "This account has been deactivated. Ask your desk's administrator.",
        "no_membership": "Your access to the service desk has been deactivated. Ask your "
        "organisation's administrator if you need it back.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        # Only someone the admin deactivated everywhere is turned away; a user whose password
        # works always held a membership (invitation or sign-up), or is a platform operator.
        if not user.is_staff and not person_memberships(user):
            raise forms.ValidationError(self.error_messages["no_membership"], code="no_membership")


def show_refusal(form: forms.Form, exc: Refusal) -> None:
    """Put a service's refusal next to the field it names, or above the form when it names
    none the form has: every page shows refusals this one way."""
    field = getattr(exc, "field", None)
    form.add_error(field if field in form.fields else None, exc.message)


class PlainLabels:
    """Labels without Django's trailing colon, as on the rest of the site."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class InviteForm(PlainLabels, forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)  # the column's length
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.AGENT)


class SignupForm(PlainLabels, forms.Form):
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="Work email address", max_length=254)


class AccountPasswordForm(PlainLabels, SetPasswordForm):
    """A new person's name and first password (Django's password validators apply)."""

    full_name = forms.CharField(label="Your name", max_length=150)
    field_order = ["full_name", "new_password1", "new_password2"]

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].label = "Choose a password"
        self.fields["new_password2"].label = "The same password again"
        self.fields["full_name"].initial = user.full_name

    def clean(self):
        # The similarity validator compares the password with the name being typed now.
        self.user.full_name = self.cleaned_data.get("full_name", self.user.full_name)
        return super().clean()


class ConfirmationWindowForm(PlainLabels, forms.Form):
    # Bounds are the service's (tenant_confirmation_window_set), so its message is the one shown.
    confirmation_window_days = forms.IntegerField(
        label="Auto-close resolved incidents after (business days)",
        help_text="A resolved incident whose reporter neither confirms nor reopens it closes by "
        "itself after this many business days of the default calendar.",
    )
