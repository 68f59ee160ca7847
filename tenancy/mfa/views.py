"""The person's two-factor pages (/account/two-factor/) and the sign-in's second step
(/login/verify/). Each view validates, calls one service, renders."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from tenancy.auth_views import after_login_url
from tenancy.errors import InvalidInput, Refusal
from tenancy.forms import show_refusal
from tenancy.mfa import services, signin
from tenancy.mfa.forms import AuthenticatorConfirmForm, CodeForm, PasskeyNameForm, ProofForm
from tenancy.mfa.webauthn import PASSKEY_NAME, registration_config, verification_config
from tenancy.models import User

NEW_CODES = "desk_mfa_new_codes"  # shown once, on the page after they were made
RETURN_TO = "desk_mfa_return_to"  # the page a required enrolment interrupted


def _safe(request: HttpRequest, url: str) -> str:
    ok = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and ok else ""


def _done(request: HttpRequest, said: str) -> HttpResponse:
    """After a factor is added: new recovery codes when the person has none, then the page a
    required enrolment interrupted, or the two-factor page."""
    messages.success(request, said)
    user = request.user
    assert isinstance(user, User)
    if services.recovery_codes_left(user) == 0:
        request.session[NEW_CODES] = services.recovery_codes_generate(user=user)
        return redirect("mfa-recovery-codes")
    back = request.session.pop(RETURN_TO, "")
    return redirect(back or "mfa-home")


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    back = _safe(request, request.GET.get("next", ""))
    if back:
        request.session[RETURN_TO] = back
    context = {
        "authenticators": services.authenticators(user),
        "passkeys": services.passkeys(user),
        "codes_left": services.recovery_codes_left(user),
        "has_factor": services.has_second_factor(user),
        "requiring": services.tenants_requiring(user),
        "required_now": bool(back),
    }
    return render(request, "tenancy/mfa/home.html", context)


@login_required
@never_cache
def authenticator_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = AuthenticatorConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.authenticator_confirm(user=user, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            request.session[signin.VERIFIED] = True  # they have just used the app
            return _done(request, f"Your authenticator app “{device.name}” is set up.")
    device = services.authenticator_pending(user=user)
    context = {
        "form": form,
        "qr": services.authenticator_qr(device),
        "secret": services.authenticator_secret(device),
        "issuer": services.issuer(),
    }
    return render(request, "tenancy/mfa/authenticator_add.html", context)


@login_required
@never_cache
def passkey_add(request: HttpRequest) -> HttpResponse:
    """First the name, then the browser's own dialog (the package's script); the name waits in
    the session for the registration's end (tenancy/mfa/webauthn.py)."""
    form = PasskeyNameForm(request.POST or None)
    named = ""
    if request.method == "POST" and form.is_valid():
        named = request.session[PASSKEY_NAME] = form.cleaned_data["name"].strip()
    context = {"form": form, "named": named, "config": registration_config(request)}
    return render(request, "tenancy/mfa/passkey_add.html", context)


@login_required
def passkey_added(request: HttpRequest) -> HttpResponse:
    """Where the script goes once the passkey is stored."""
    user = request.user
    assert isinstance(user, User)
    if not services.passkeys(user).exists():
        return redirect("mfa-home")
    return _done(request, "Your passkey is set up.")


@login_required
@never_cache
def factor_remove(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        device = services.factor_of(user, kind, pk)
    except InvalidInput as exc:
        raise Http404(exc.message) from exc
    form = ProofForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            label = services.factor_remove(
                user=user, kind=kind, device_id=pk, proof=form.cleaned_data["proof"]
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"Your {services.KINDS[kind]} “{label}” is removed.")
            return redirect("mfa-home")
    context = {"form": form, "device": device, "kind": services.KINDS[kind]}
    return render(request, "tenancy/mfa/factor_remove.html", context)


@login_required
@never_cache
def recovery_codes(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = {
        "codes": request.session.pop(NEW_CODES, None),
        "codes_left": services.recovery_codes_left(user),
        "has_factor": services.has_second_factor(user),
        "back": request.session.pop(RETURN_TO, ""),
    }
    return render(request, "tenancy/mfa/recovery_codes.html", context)


@login_required
@require_POST
def recovery_codes_generate(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    try:
        request.session[NEW_CODES] = services.recovery_codes_generate(user=user)
    except Refusal as exc:
        messages.error(request, exc.message)
    return redirect("mfa-recovery-codes")


# --- The second step of signing in ----------------------------------------------------------


def _expired(request: HttpRequest, started: bool) -> HttpResponse:
    if started:  # a sign-in that waited too long, not a visit out of the blue
        messages.error(
            request, "Your sign-in took too long. Start again with your email and password."
        )
    return redirect("login")


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    started = signin.PENDING in request.session
    user = signin.pending_user(request)
    if user is None:
        return _expired(request, started)
    form = CodeForm(request.POST or None)
    status = 200
    until = signin.paused_until(request, user)
    if request.method == "POST" and until is None and form.is_valid():
        device = signin.code_device(user, form.cleaned_data["code"])
        if device is not None:
            next_url = signin.pending_next(request)
            signin.finish(request, user, device)
            return redirect(next_url or after_login_url(request))
        signin.failure_count(request, user, what="wrong code")
        form.add_error(
            "code",
            "That code is not right. Type the code your app shows now, or one "
            "of your recovery codes.",
        )
        status, until = 400, signin.paused_until(request, user)
    context = {
        "form": form,
        "paused": signin.paused_message(until) if until else "",
        "has_authenticator": services.authenticators(user).exists(),
        "has_passkey": services.passkeys(user).exists(),
        "config": verification_config(request),
    }
    return render(request, "tenancy/mfa/verify.html", context, status=429 if until else status)
