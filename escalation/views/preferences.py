"""A member's own page: which mails they get. The bell shows everything whatever they choose."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from escalation.models import MailKind
from escalation.selectors.told import mail_preferences_for
from escalation.services.following import mail_preferences_set
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.forms import PlainLabels, show_refusal
from tenancy.http import TenantRequest


class MailPreferencesForm(PlainLabels, forms.Form):
    my_incidents = forms.BooleanField(required=False, label=MailKind.MINE.label)
    group_queue = forms.BooleanField(required=False, label=MailKind.GROUP.label)
    mentions = forms.BooleanField(required=False, label=MailKind.MENTIONS.label)
    sla_alerts = forms.BooleanField(required=False, label=MailKind.SLA.label)


@staff_required
def mail_preferences(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    current = mail_preferences_for(request.membership)
    initial = {name: getattr(current, name) for name in MailPreferencesForm.base_fields}
    form = MailPreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            mail_preferences_set(actor=request.actor, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, "Your mail choices are saved.")
            return redirect("notifications-preferences", tenant_slug=tenant_slug)
    return render(request, "escalation/mail_preferences.html", {"form": form})
