"""Passkeys through django-otp-webauthn: its helper told the desk's relying party, and its four
JSON endpoints fitted to the desk's flow (tenancy/mfa/urls.py).

Registration is for a signed-in person, on their two-factor page; the name they typed waits in
the session and the passkey is recorded in the same transaction that stores it. Verification is
the second step of signing in: the person is not signed in yet, so "the user" is the one the
password step left in the session (tenancy/mfa/signin.py); passkeys never sign anyone in alone
(OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is off).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.middleware import csrf
from django.urls import reverse
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from tenancy.auth_views import after_login_url
from tenancy.mfa import signin
from tenancy.mfa.services import passkey_recorded

PASSKEY_NAME = "desk_mfa_passkey_name"


def rp_id(request: HttpRequest) -> str:
    """The domain passkeys are bound to: WEBAUTHN_RP_ID, else the host the person opened (its
    name without the port; ALLOWED_HOSTS has vetted it)."""
    return settings.WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0].strip("[]")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class DeskWebAuthnHelper(WebAuthnHelper):
    def get_allowed_origins(self) -> list[str]:
        """WEBAUTHN_ALLOWED_ORIGINS when set; otherwise SITE_URL's origin and the request's own
        (the same desk opened as localhost or by its name)."""
        if settings.WEBAUTHN_ALLOWED_ORIGINS:
            return list(settings.WEBAUTHN_ALLOWED_ORIGINS)
        own = _origin(self.request.build_absolute_uri("/"))
        return list(dict.fromkeys([_origin(settings.SITE_URL), own]))


class NotPending(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "sign_in_expired"
    default_detail = "Your sign-in took too long. Start again with your email and password."


class Paused(exceptions.OTPWebAuthnApiError):
    status_code = 429
    code = "paused"
    default_detail = "Too many failed attempts for this account. Try again later."


class PasskeyRegisterBegin(BeginCredentialRegistrationView):
    def user_is_mfa_enrolled(self, user) -> bool:
        # Nobody holds a desk session without having passed their factor (or their identity
        # provider's policy, for SSO): the package's "verify first" check would refuse SSO users.
        return False


class PasskeyRegisterComplete(CompleteCredentialRegistrationView):
    def user_is_mfa_enrolled(self, user) -> bool:
        return False

    def post(self, *args, **kwargs):
        with transaction.atomic():  # the passkey and its audit records land together
            response = super().post(*args, **kwargs)
            created = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"])
            passkey_recorded(
                user=self.request.user,
                device=created,
                name=self.request.session.pop(PASSKEY_NAME, ""),
            )
            self.request.session[signin.VERIFIED] = True  # they have just used the device
        return response


class _SecondStep:
    """The pending person of the sign-in's second step stands for "the user"."""

    request: HttpRequest

    def get_user(self):
        user = signin.pending_user(self.request)
        if user is None:
            raise NotPending()
        if signin.paused_until(self.request, user) is not None:
            raise Paused()
        return user


class PasskeySignInBegin(_SecondStep, BeginCredentialAuthenticationView):
    pass


class PasskeySignInComplete(_SecondStep, CompleteCredentialAuthenticationView):
    def handle_exception(self, exc):
        # A passkey the server refused (not the person's, a bad signature) counts as a wrong code;
        # an expired sign-in or a pause does not.
        refused = isinstance(exc, exceptions.OTPWebAuthnApiError) and not isinstance(
            exc, NotPending | Paused
        )
        user = signin.pending_user(self.request) if refused else None
        if user is not None:
            signin.failure_count(self.request, user, what="passkey refused")
        return super().handle_exception(exc)

    def complete_auth(self, device) -> None:
        self.next_url = signin.pending_next(self.request)
        signin.finish(self.request, device.user, device)

    def get_success_url(self) -> str:
        return self.next_url or after_login_url(self.request)


def registration_config(request: HttpRequest) -> dict:
    """What the package's register script reads (json_script "otp_webauthn_config")."""
    return _config(request, "mfa-passkey-begin", "mfa-passkey-complete")


def verification_config(request: HttpRequest) -> dict:
    return _config(request, "login-passkey-begin", "login-passkey-complete")


def _config(request: HttpRequest, begin: str, complete: str) -> dict:
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse(begin),
        "completeAuthenticationUrl": reverse(complete),
        "beginRegistrationUrl": reverse(begin),
        "completeRegistrationUrl": reverse(complete),
    }
