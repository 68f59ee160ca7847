"""Settings -> Integrations: the list, create (the key shown once), edit with a preview of the
incident a sample would open, rotate the key, and the log of alerts received."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from incidents.intake.alerts import (
    IncomingAlert,
    alertmanager_alerts,
    pagerduty_alert,
    pagerduty_errors,
    webhook_alert,
)
from incidents.intake.receive import incident_fields
from incidents.intake.rules import mapping_text, parse_mapping, parse_rules, rules_text
from incidents.intake.services import (
    integration_change,
    integration_create,
    integration_rotate_key,
)
from incidents.models import AlertLog, AlertOutcome, Category, Integration, IntegrationKind, Level
from tenancy.decorators import admin_required
from tenancy.errors import InvalidInput
from tenancy.http import TenantRequest

T = "incidents/settings/"


class CreateForm(forms.Form):
    kind = forms.ChoiceField(choices=IntegrationKind.choices)
    name = forms.CharField(max_length=100, help_text="Which tool sends, e.g. “Prometheus prod”.")


class EditForm(forms.Form):
    name = forms.CharField(max_length=100)
    enabled = forms.BooleanField(required=False, help_text="Off: every alert is refused.")
    rules = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="One per line: label=value: impact/urgency [category slug], first match wins."
        " E.g. `severity=critical: high/high network`.",
    )
    default_impact = forms.ChoiceField(choices=Level.choices)
    default_urgency = forms.ChoiceField(choices=Level.choices)
    default_category = forms.ChoiceField(required=False)
    resolve_on_resolved = forms.BooleanField(
        required=False,
        help_text="A resolved alert resolves the incident; off, it adds a note and people resolve.",
    )
    group_alerts = forms.BooleanField(
        required=False,
        help_text="Alertmanager: one incident per alert group (groupKey), resolved when the whole "
        "group is, instead of one per alert (fingerprint).",
    )
    mapping = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Generic webhook: one per line, `field = path`; fields dedup_key, title "
        "(required), description, action, severity, link. Paths like `$.alert.tags[0]`.",
    )
    sample = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        required=False,
        help_text="Paste a message the tool sends, and preview the incident it would open.",
    )

    def __init__(self, *args, tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        slugs = Category.objects.for_tenant(tenant).filter(is_active=True).order_by("name")
        category_field = self.fields["default_category"]
        assert isinstance(category_field, forms.ChoiceField)
        category_field.choices = [("", "(none)")] + [(c.slug, c.name) for c in slugs]

    @staticmethod
    def initial_for(integration: Integration) -> dict:
        return {
            "name": integration.name,
            "enabled": integration.enabled,
            "rules": rules_text(integration.rules),
            "default_impact": integration.default_impact,
            "default_urgency": integration.default_urgency,
            "default_category": getattr(integration.default_category, "slug", ""),
            "resolve_on_resolved": integration.resolve_on_resolved,
            "group_alerts": integration.group_alerts,
            "mapping": mapping_text(integration.mapping),
        }


@admin_required
def integration_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = CreateForm(request.POST or None)
    created = key = None
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        if values["kind"] == IntegrationKind.WEBHOOK:
            values["mapping"] = "dedup_key = $.id\ntitle = $.title"
        try:
            created, key = integration_create(actor=request.actor, **values)
        except InvalidInput as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, f"“{created.name}” created. Copy its key now: it is not shown again."
            )
            form = CreateForm()
    rows = Integration.objects.for_tenant(request.tenant).select_related("default_category")
    return render(
        request,
        T + "integrations.html",
        {"form": form, "integrations": rows, "created": created, "key": key},
    )


@admin_required
def integration_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    integration = get_object_or_404(Integration.objects.for_tenant(request.tenant), pk=pk)
    form = EditForm(
        request.POST or None, tenant=request.tenant, initial=EditForm.initial_for(integration)
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        sample = data.pop("sample")
        if "preview" in request.POST:
            preview = _preview(integration, data, sample)
        else:
            try:
                integration_change(actor=request.actor, integration_id=integration.pk, **data)
            except InvalidInput as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, f"“{data['name']}” saved.")
                return redirect("settings-integrations", tenant_slug=tenant_slug)
    return render(
        request,
        T + "integration_form.html",
        {"form": form, "integration": integration, "preview": preview, "urls": _urls(request)},
    )


def _urls(request: TenantRequest) -> dict[str, str]:
    base = request.build_absolute_uri("/api/v1/integrations/")
    return {
        "alertmanager": base + "alertmanager/",
        "pagerduty": base + "events/v2/enqueue",
        "webhook": base + "webhook/",
    }


def _preview(integration: Integration, data: dict, sample: str) -> dict:
    """What the sample would do with the settings on the page (not saved): incidents or errors."""
    try:
        body = json.loads(sample)
    except ValueError as exc:
        return {"errors": [f"The sample is not JSON: {exc}."]}
    try:
        alerts = _sample_alerts(integration, data, body)
    except (InvalidInput, ValueError) as exc:
        return {"errors": [getattr(exc, "message", str(exc))]}
    trial = Integration(
        tenant=integration.tenant,
        rules=integration.rules,
        default_impact=data["default_impact"],
        default_urgency=data["default_urgency"],
    )
    try:
        trial.rules = parse_rules(data["rules"])
    except InvalidInput as exc:
        return {"errors": [exc.message]}
    trial.default_category = (
        Category.objects.for_tenant(integration.tenant)
        .filter(slug=data["default_category"])
        .first()
    )
    rows = [
        {"alert": alert, "fields": incident_fields(trial, alert) if not alert.error else {}}
        for alert in alerts
    ]
    return {"rows": rows, "errors": [alert.error for alert in alerts if alert.error]}


def _sample_alerts(integration: Integration, data: dict, body) -> list[IncomingAlert]:
    if integration.kind == IntegrationKind.ALERTMANAGER:
        return alertmanager_alerts(body, grouped=data.get("group_alerts", False))
    if integration.kind == IntegrationKind.PAGERDUTY:
        errors = pagerduty_errors(
            {"routing_key": "preview", **(body if isinstance(body, dict) else {})}
        )
        if errors:
            raise ValueError("; ".join(errors))
        return [pagerduty_alert(body)]
    return [webhook_alert(parse_mapping(data["mapping"]), body)]


@admin_required
@require_POST
def integration_rotate(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    get_object_or_404(Integration.objects.for_tenant(request.tenant), pk=pk)
    integration, key = integration_rotate_key(actor=request.actor, integration_id=pk)
    messages.success(
        request,
        f"“{integration.name}” has a new key: the old one no longer works. Copy the new one now:"
        " it is not shown again.",
    )
    rows = Integration.objects.for_tenant(request.tenant).select_related("default_category")
    return render(
        request,
        T + "integrations.html",
        {"form": CreateForm(), "integrations": rows, "created": integration, "key": key},
    )


@admin_required
def alert_log(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    rows = AlertLog.objects.for_tenant(request.tenant).select_related("integration", "incident")
    integrations = Integration.objects.for_tenant(request.tenant)
    chosen = request.GET.get("integration", "")
    if chosen.isdigit():
        rows = rows.filter(integration_id=int(chosen))
    outcome = request.GET.get("outcome", "")
    if outcome in AlertOutcome.values:
        rows = rows.filter(outcome=outcome)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        T + "alert_log.html",
        {
            "page": page,
            "integrations": integrations,
            "outcomes": AlertOutcome.choices,
            "chosen": chosen,
            "outcome": outcome,
            "retention_days": settings.INTEGRATION_LOG_RETENTION_DAYS,
        },
    )
