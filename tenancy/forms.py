from django import forms
from django.contrib.auth.forms import AuthenticationForm

from tenancy.selectors import memberships_for_user


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. Check both and try "
        "again.",
        "inactive": "This account has been deactivated. Ask your desk's administrator.",
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff and not memberships_for_user(user).exists():
            raise forms.ValidationError(self.error_messages["inactive"], code="inactive")
