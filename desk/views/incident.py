"""The incident page of the desk: header, timeline and the actions allowed now."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from desk.forms import ActionForm
from desk.presence import presence_poll_seconds
from desk.selectors import (
    DeskChoices,
    incident_relations,
    incident_timeline,
)
from desk.views.actions import ACTIONS, available_actions
from desk.views.follow import follow_context, newest_first, order_query
from escalation.selectors.sla import clocks_for_incident
from incidents.errors import StaleIncident
from incidents.models import Incident, Level
from incidents.selectors import attachments_visible_to, incident_for_actor
from incidents.selectors.canned import canned_responses_filled
from incidents.services.priority import priority_derive
from problems.selectors import incident_problem_panel
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest


def _incident(request: TenantRequest, number: int) -> Incident:
    return incident_for_actor(
        actor=request.actor,
        number=number,
        related=("parent", "duplicate_of", "problem_link__problem"),
    )


def _form(name: str, incident: Incident, desk: DeskChoices) -> ActionForm:
    return ACTIONS[name].form(
        prefix=name, desk=desk, incident=incident, initial={"expected_version": incident.version}
    )


def render_incident(
    request: TenantRequest,
    incident: Incident,
    *,
    bound: tuple[str, ActionForm] | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    """The page, with a refused form (and what the agent typed in it) shown open."""
    desk = DeskChoices(request.tenant)
    relations = incident_relations(incident)
    names = available_actions(request.actor, incident, has_children=bool(relations.children))
    bound_name, bound_form = bound or ("", None)
    still_possible = bound_name in names
    if bound_name and not still_possible:
        names.append(bound_name)  # no longer possible, but the agent's text stays on screen
    problem_panel = incident_problem_panel(
        actor=request.actor,
        incident=incident,
        typed=request.GET.get("problem", ""),
        apply=request.GET.get("workaround") == "1",
    )
    actions = [
        {
            "action": ACTIONS[name],
            "form": bound_form if name == bound_name else _form(name, incident, desk),
            "bound": name == bound_name,
            "possible": name != bound_name or still_possible,
        }
        for name in names
    ]
    _prefill_reply(actions, problem_panel.reply_text)
    context = {
        **follow_context(request, incident),
        "relations": relations,
        "timeline": incident_timeline(incident, newest_first=newest_first(request)),
        "newest_first": newest_first(request),
        "sla_clocks": clocks_for_incident(incident, actor=request.actor, explain=True),
        "actions": actions,
        "conflict": conflict,
        "presence_poll_seconds": presence_poll_seconds(),
        "canned_responses": canned_responses_filled(actor=request.actor, incident=incident),
        "problem_panel": problem_panel,
    }
    return render(request, "desk/incident_detail.html", context, status=status)


def _prefill_reply(actions: list[dict[str, Any]], text: str) -> None:
    """After "Link and apply the workaround": the reply opens filled, to edit before sending."""
    for item in actions:
        if text and item["action"].name == "reply" and not item["bound"]:
            item["form"].initial["body"] = text
            item["open"] = True


@require_GET
@staff_required
def detail(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    return render_incident(request, _incident(request, number))


@require_POST
@staff_required
def act(request: TenantRequest, tenant_slug: str, number: int, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    incident = _incident(request, number)
    form = spec.form(
        request.POST,
        request.FILES,
        prefix=action,
        desk=DeskChoices(request.tenant),
        incident=incident,
    )
    if not form.is_valid():
        return render_incident(request, incident, bound=(action, form), status=400)
    try:
        spec.run(incident, request.actor, form.cleaned_data)
    except StaleIncident as exc:
        fresh = _incident(request, number)
        form.keep_text_with_version(fresh.version)
        return render_incident(
            request, fresh, bound=(action, form), conflict=exc.message, status=409
        )
    except Refusal as exc:
        show_refusal(form, exc)
        return render_incident(
            request, _incident(request, number), bound=(action, form), status=400
        )
    messages.success(request, spec.done.format(ref=incident.reference))
    url = reverse("desk-incident-detail", kwargs={"tenant_slug": tenant_slug, "number": number})
    return redirect(url + order_query(request))  # the reader's timeline order stays


@require_GET
@staff_required
def priority_preview(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """The priority a change of impact or urgency would give, shown before saving (htmx)."""
    incident = _incident(request, number)
    impact = request.GET.get("priority-impact", incident.impact)
    urgency = request.GET.get("priority-urgency", incident.urgency)
    context: dict[str, Any] = {"incident": incident, "impact": impact, "urgency": urgency}
    if impact in Level.values and urgency in Level.values:
        context["level"] = priority_derive(tenant=request.tenant, impact=impact, urgency=urgency)
        context["impact_label"] = Level(impact).label
        context["urgency_label"] = Level(urgency).label
    return render(request, "desk/_priority_preview.html", context)


@require_GET
@staff_required
def attachment_download(
    request: TenantRequest, tenant_slug: str, number: int, attachment_id: int
) -> FileResponse:
    incident = incident_for_actor(actor=request.actor, number=number)
    files = attachments_visible_to(actor=request.actor, incident=incident)
    attachment = get_object_or_404(files, pk=attachment_id)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.name,
        content_type=attachment.content_type,
    )
