"""The knowledge pages: the list and search, an article, the editor and history (agents), and
what readers do from an article (vote, "This solved it") or from an incident (send it), and
the articles written from an incident or a problem."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.models import Incident, IncidentState
from incidents.selectors import incident_for_actor
from knowledge import services
from knowledge.forms import ArticleForm, VoteForm
from knowledge.links import article_problems, problem_articles
from knowledge.models import Article, ArticleState
from knowledge.rendering import render_markdown
from knowledge.selectors import (
    article_for_actor,
    article_incidents,
    article_search,
    article_versions,
    article_vote_of,
    article_votes,
    articles_suggested,
    knowledge_figures,
)
from problems.models import Problem
from problems.selectors import problem_for_actor
from tenancy.days import days_span
from tenancy.decorators import manager_required, staff_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest
from tenancy.inputs import query_text
from tenancy.replicas import replica_reads

WRITABLE_FROM = (IncidentState.RESOLVED, IncidentState.CLOSED)
DASHBOARD_DAYS = 30


@require_GET
def article_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    q = query_text(request.GET.get("q", ""))
    state = request.GET.get("state", "") if request.actor.is_agent_or_above else ""
    articles = article_search(actor=request.actor, text=q, state=state)
    context = {"articles": articles, "q": q, "state": state, "states": ArticleState.choices}
    return render(request, "knowledge/article_list.html", context)


@require_GET
def article_detail(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    article = article_for_actor(actor=request.actor, pk=pk)
    services.article_viewed(actor=request.actor, article=article)
    staff = request.actor.is_agent_or_above
    context = {
        "article": article,
        "body_html": render_markdown(article.body),
        "votes": article_votes(article=article),
        "my_vote": article_vote_of(article=article, actor=request.actor),
        "incidents": article_incidents(article=article) if staff else [],
        "problems": article_problems(article=article) if staff else [],
    }
    return render(request, "knowledge/article_detail.html", context)


def _incident_prefill(request: TenantRequest, number: int) -> dict[str, Any]:
    """A resolved incident's title and what the desk learnt, for the agent to edit."""
    incident = incident_for_actor(actor=request.actor, number=number)
    parts = [
        ("What happens", incident.description),
        ("Cause", incident.root_cause),
        ("Workaround", incident.workaround),
        ("Solution", incident.resolution_notes),
    ]
    body = "\n\n".join(f"## {heading}\n\n{text.strip()}" for heading, text in parts if text.strip())
    return {
        "title": incident.title,
        "body": body,
        "category": incident.category_id,
        "incident": incident.number,
    }


def _problem_prefill(request: TenantRequest, number: int) -> dict[str, Any]:
    """A known error's symptoms, cause and workaround (and its fix once resolved), to edit."""
    problem = problem_for_actor(actor=request.actor, number=number)
    parts = [
        ("What happens", problem.description),
        ("Cause", problem.root_cause),
        ("Workaround", problem.workaround),
        ("Solution", problem.fix if problem.is_fixed else ""),
    ]
    body = "\n\n".join(f"## {heading}\n\n{text.strip()}" for heading, text in parts if text.strip())
    return {
        "title": problem.title,
        "body": body,
        "category": problem.category_id,
        "problem": problem.number,
    }


def _prefill(request: TenantRequest) -> dict[str, Any]:
    incident, problem = request.GET.get("incident", ""), request.GET.get("problem", "")
    if incident.isdigit():
        return _incident_prefill(request, int(incident))
    if problem.isdigit():
        return _problem_prefill(request, int(problem))
    return {}


def _linked_incident(request: TenantRequest, form: ArticleForm) -> Incident | None:
    number = form.cleaned_data.get("incident")
    return incident_for_actor(actor=request.actor, number=number) if number else None


def _linked_problem(request: TenantRequest, form: ArticleForm) -> Problem | None:
    number = form.cleaned_data.get("problem")
    return problem_for_actor(actor=request.actor, number=number) if number else None


def _editor(
    request: TenantRequest, form: ArticleForm, article: Article | None, status: int = 200
) -> HttpResponse:
    preview = ""
    if form.is_bound and form.is_valid():
        preview = render_markdown(form.cleaned_data["body"])
    context = {"form": form, "article": article, "preview": preview}
    return render(request, "knowledge/article_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def article_new(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    if request.method == "GET":
        return _editor(request, ArticleForm(tenant=request.tenant, initial=_prefill(request)), None)
    form = ArticleForm(request.POST, tenant=request.tenant)
    if not form.is_valid() or "preview" in request.POST:
        return _editor(request, form, None, status=200 if form.is_valid() else 400)
    try:
        article = services.article_create(
            actor=request.actor,
            text=form.text(),
            incident=_linked_incident(request, form),
            problem=_linked_problem(request, form),
        )
    except Refusal as exc:
        show_refusal(form, exc)
        return _editor(request, form, None, status=400)
    messages.success(request, "Draft saved. Publish it when it is ready.")
    return redirect("knowledge-article", tenant_slug, article.pk)


@require_http_methods(["GET", "POST"])
@staff_required
def article_edit(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    article = article_for_actor(actor=request.actor, pk=pk)
    if request.method == "GET":
        initial = {
            "title": article.title,
            "body": article.body,
            "category": article.category_id,
            "audience": article.audience,
            "expected_version": article.version,
        }
        return _editor(request, ArticleForm(tenant=request.tenant, initial=initial), article)
    form = ArticleForm(request.POST, tenant=request.tenant)
    if not form.is_valid() or "preview" in request.POST:
        return _editor(request, form, article, status=200 if form.is_valid() else 400)
    try:
        services.article_update(
            actor=request.actor,
            article=article,
            text=form.text(),
            expected_version=form.cleaned_data["expected_version"],
        )
    except Refusal as exc:
        show_refusal(form, exc)
        return _editor(request, form, article, status=409 if exc.status == 409 else 400)
    messages.success(request, "Article saved.")
    return redirect("knowledge-article", tenant_slug, article.pk)


@require_POST
@staff_required
def article_transition(request: TenantRequest, tenant_slug: str, pk: int, to: str) -> HttpResponse:
    article = article_for_actor(actor=request.actor, pk=pk)
    service = services.article_publish if to == "publish" else services.article_retire
    try:
        service(actor=request.actor, article=article)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Published." if to == "publish" else "Retired.")
    return redirect("knowledge-article", tenant_slug, article.pk)


@require_GET
@staff_required
def article_history(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    article = article_for_actor(actor=request.actor, pk=pk)
    versions = article_versions(article=article).select_related("author")
    return render(
        request, "knowledge/article_history.html", {"article": article, "versions": versions}
    )


@require_POST
def article_vote(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    article = article_for_actor(actor=request.actor, pk=pk)
    form = VoteForm(request.POST)
    if form.is_valid():
        services.article_vote(
            actor=request.actor, article=article, helpful=form.cleaned_data["helpful"]
        )
        messages.success(request, "Thank you: your answer is counted.")
    else:
        messages.error(request, "Answer yes or no.")
    return redirect("knowledge-article", tenant_slug, article.pk)


@require_POST
def article_solved(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """The portal's "This solved it": the report ends here, without an incident."""
    article = article_for_actor(actor=request.actor, pk=pk)
    try:
        services.deflection_record(
            actor=request.actor, article=article, text=request.POST.get("text", "")
        )
    except Refusal as exc:
        messages.error(request, exc.message)
        return redirect("portal-report", tenant_slug)
    messages.success(request, f"Glad “{article.title}” solved it. No incident was reported.")
    return redirect("portal-home", tenant_slug)


@require_GET
@staff_required
def incident_panel(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """The desk incident page's articles (loaded by htmx): matching ones to send, and
    writing one from the incident once it is resolved."""
    incident = incident_for_actor(actor=request.actor, number=number)
    category = incident.category.name if incident.category else ""
    text = f"{incident.title} {category}"
    context = {
        "incident": incident,
        "articles": articles_suggested(tenant=request.tenant, text=text, agents=True),
        "can_write": incident.state in WRITABLE_FROM,
        "can_send": not incident.is_final,
    }
    return render(request, "knowledge/_incident_panel.html", context)


@require_GET
@staff_required
def problem_panel(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """The problem page's articles written from it (loaded by htmx: problems may not import
    knowledge)."""
    problem = problem_for_actor(actor=request.actor, number=number)
    context = {"problem": problem, "articles": problem_articles(problem=problem)}
    return render(request, "knowledge/_problem_panel.html", context)


@require_POST
@staff_required
def incident_send(request: TenantRequest, tenant_slug: str, number: int, pk: int) -> HttpResponse:
    incident = incident_for_actor(actor=request.actor, number=number)
    article = article_for_actor(actor=request.actor, pk=pk)
    url = request.build_absolute_uri(reverse("knowledge-article", args=[tenant_slug, pk]))
    try:
        services.article_send(actor=request.actor, article=article, incident=incident, url=url)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{article.title}” sent to {incident.reference} as a reply.")
    return redirect("desk-incident-detail", tenant_slug, incident.number)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@require_GET
@manager_required
@replica_reads
def dashboard_panel(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The dashboard's knowledge figures (loaded by htmx, so the dashboard's own queries and
    cache stay as they are): the deflection rate in the dashboard's period (`from` and `to`,
    days in the tenant's time zone, as the page sends them; the last 30 days without) and the
    most helpful articles."""
    zone = ZoneInfo(request.tenant.time_zone)
    first = _day(query_text(request.GET.get("from", "")))
    last = _day(query_text(request.GET.get("to", "")))
    if first is None or last is None or last < first:
        last = timezone.now().astimezone(zone).date()
        first = last - timedelta(days=DASHBOARD_DAYS - 1)
    since, until = days_span(first, last, zone)
    figures = knowledge_figures(tenant=request.tenant, since=since, until=until)
    context = {"figures": figures, "first": first, "last": last}
    return render(request, "knowledge/_dashboard_panel.html", context)
