"""The problem pages of the desk: the list, a new problem, a problem with its timeline and
incidents, and the forms of the incident page that link an incident to its problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident
from incidents.selectors import incident_for_actor
from problems import forms as f
from problems import services
from problems.models import Problem, ProblemState
from problems.selectors import (
    problem_for_actor,
    problem_incidents,
    problem_list,
    problem_timeline,
)
from problems.services.common import allowed_transitions
from tenancy.actors import Actor
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    form: type[f.ProblemForm]
    run: Callable[[Problem, Actor, dict[str, Any]], Any]
    done: str


def _resolve(problem: Problem, actor: Actor, data: dict[str, Any]) -> Any:
    outcome = services.problem_resolve(problem=problem, actor=actor, **data)
    return outcome


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "investigate",
            "Start investigating",
            f.NoteForm,
            lambda p, a, d: services.problem_investigate(problem=p, actor=a, **d),
            "{ref} is under investigation.",
        ),
        Transition(
            "known_error",
            "Record as known error",
            f.KnownErrorForm,
            lambda p, a, d: services.problem_record_known_error(problem=p, actor=a, **d),
            "{ref} is a known error: its workaround shows on its open incidents.",
        ),
        Transition("resolve", "Resolve", f.ResolveForm, _resolve, "{ref} resolved."),
        Transition(
            "close",
            "Close",
            f.NoteForm,
            lambda p, a, d: services.problem_close(problem=p, actor=a, **d),
            "{ref} closed.",
        ),
        Transition(
            "cancel",
            "Cancel",
            f.CancelForm,
            lambda p, a, d: services.problem_cancel(problem=p, actor=a, **d),
            "{ref} cancelled.",
        ),
    )
}


def _detail_url(request: TenantRequest, problem: Problem) -> str:
    return reverse(
        "problems-problem-detail",
        kwargs={"tenant_slug": request.tenant.slug, "number": problem.number},
    )


@require_GET
@staff_required
def problems(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    state = request.GET.get("state", "")
    context = {
        "problems": problem_list(actor=request.actor, state=state)[:200],
        "state": state,
        "states": ProblemState.choices,
    }
    return render(request, "problems/problem_list.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def new(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    if request.method == "GET":
        initial = {"owner": request.user.pk, "incidents": request.GET.get("incidents", "")}
        form = f.NewProblemForm(tenant=request.tenant, initial=initial)
        return render(request, "problems/problem_new.html", {"form": form})
    form = f.NewProblemForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        try:
            problem = services.problem_log(actor=request.actor, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, f"{problem.reference} logged.")
            return redirect(_detail_url(request, problem))
    return render(request, "problems/problem_new.html", {"form": form}, status=400)


def render_problem(
    request: TenantRequest,
    problem: Problem,
    *,
    bound: tuple[str, f.ProblemForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The problem page, with a refused form (and what was typed in it) shown open."""
    bound_name, bound_form = bound or ("", None)
    tenant = request.tenant
    actions = [
        {
            "t": TRANSITIONS[name],
            "form": bound_form if name == bound_name else TRANSITIONS[name].form(tenant=tenant),
            "bound": name == bound_name,
        }
        for name in allowed_transitions(problem)
    ]
    link_form = bound_form if bound_name == "link" else f.LinkIncidentsForm(tenant=tenant)
    context = {
        "problem": problem,
        "summary": problem_incidents(problem),
        "timeline": problem_timeline(problem),
        "actions": actions,
        "link_form": link_form,
        "link_bound": bound_name == "link",
    }
    return render(request, "problems/problem_detail.html", context, status=status)


@require_GET
@staff_required
def detail(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    return render_problem(request, problem_for_actor(actor=request.actor, number=number))


@require_POST
@staff_required
def act(request: TenantRequest, tenant_slug: str, number: int, action: str) -> HttpResponse:
    spec = TRANSITIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    problem = problem_for_actor(actor=request.actor, number=number)
    form = spec.form(request.POST, tenant=request.tenant)
    if form.is_valid():
        try:
            outcome = spec.run(problem, request.actor, form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            messages.success(request, spec.done.format(ref=problem.reference))
            _report_incidents(request, outcome)
            return redirect(_detail_url(request, problem))
    fresh = problem_for_actor(actor=request.actor, number=number)
    return render_problem(request, fresh, bound=(action, form), status=400)


def _report_incidents(request: TenantRequest, outcome: Any) -> None:
    """After a resolve that took the incidents along: which were resolved, which refused."""
    if not isinstance(outcome, services.ProblemResolution):
        return
    if outcome.resolved:
        messages.success(request, f"Resolved with it: {', '.join(outcome.resolved)}.")
    for reference, why in outcome.failed:
        messages.error(request, f"{reference} was not resolved: {why}")


@require_POST
@staff_required
def link(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """Link incidents (by number) from the problem page: all of them, or none."""
    problem = problem_for_actor(actor=request.actor, number=number)
    form = f.LinkIncidentsForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        try:
            services.problem_link_incidents(
                problem=problem, incidents=form.cleaned_data["incidents"], actor=request.actor
            )
        except Refusal as exc:
            show_refusal(form, exc)
        else:
            refs = ", ".join(i.reference for i in form.cleaned_data["incidents"])
            messages.success(request, f"Linked to {problem.reference}: {refs}.")
            return redirect(_detail_url(request, problem))
    return render_problem(request, problem, bound=("link", form), status=400)


@require_POST
@staff_required
def unlink(request: TenantRequest, tenant_slug: str, number: int, incident: int) -> HttpResponse:
    problem = problem_for_actor(actor=request.actor, number=number)
    found = _linked_incident(request, problem, incident)
    services.problem_unlink_incident(incident=found, actor=request.actor)
    messages.success(request, f"{found.reference} unlinked from {problem.reference}.")
    return redirect(_detail_url(request, problem))


def _linked_incident(request: TenantRequest, problem: Problem, number: int) -> Incident:
    incident = incident_for_actor(actor=request.actor, number=number)
    if not problem.links.filter(incident=incident).exists():
        raise Http404("That incident is not linked to this problem.")
    return incident


# --- the incident page of the desk (problems/_incident_panel.html) ----------------------------
def _incident_url(request: TenantRequest, incident: Incident, query: str = "") -> str:
    url = reverse(
        "desk-incident-detail",
        kwargs={"tenant_slug": request.tenant.slug, "number": incident.number},
    )
    return f"{url}?{query}#problem-panel" if query else f"{url}#problem-panel"


@require_POST
@staff_required
def incident_link(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """Link the incident to a problem picked by its number; a refusal comes back to the
    incident page with the number typed still in the field."""
    incident = incident_for_actor(actor=request.actor, number=number)
    form = f.PickProblemForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        problem = form.cleaned_data["problem"]
        try:
            services.problem_link_incident(problem=problem, incident=incident, actor=request.actor)
        except Refusal as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{incident.reference} linked to {problem.reference}.")
            return redirect(_incident_url(request, incident))
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    typed = urlencode({"problem": request.POST.get("problem", "")})
    return redirect(_incident_url(request, incident, typed))


@require_POST
@staff_required
def incident_unlink(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = incident_for_actor(actor=request.actor, number=number)
    try:
        problem = services.problem_unlink_incident(incident=incident, actor=request.actor)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{incident.reference} unlinked from {problem.reference}.")
    return redirect(_incident_url(request, incident))


@require_POST
@staff_required
def incident_apply(
    request: TenantRequest, tenant_slug: str, number: int, problem: int
) -> HttpResponse:
    """Link and apply the workaround: link, then open the public reply filled from the
    workaround, for the agent to edit before sending."""
    incident = incident_for_actor(actor=request.actor, number=number)
    found = problem_for_actor(actor=request.actor, number=problem)
    try:
        services.problem_link_incident(problem=found, incident=incident, actor=request.actor)
    except Refusal as exc:
        messages.error(request, exc.message)
        return redirect(_incident_url(request, incident))
    messages.success(
        request,
        f"{incident.reference} linked to {found.reference}. Edit the workaround below and send it.",
    )
    url = reverse(
        "desk-incident-detail",
        kwargs={"tenant_slug": request.tenant.slug, "number": incident.number},
    )
    return redirect(f"{url}?workaround=1#action-reply")
