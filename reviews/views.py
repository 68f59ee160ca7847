"""The review pages: the list, a review, its edit page (texts, timeline, action items), the
Markdown export and the owner's "Done". Thin: fetch scoped, call one service, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents.selectors import incident_for_actor
from reviews import services
from reviews.forms import ActionForm, EntryForm, ReviewForm
from reviews.markdown import review_markdown
from reviews.models import ActionItem, Review, TimelineEntry
from reviews.rules import may_edit
from reviews.selectors import (
    action_for_actor,
    major_incidents_without_review,
    overdue_actions,
    overdue_actions_count,
    review_actions,
    review_for_actor,
    review_problem,
    review_timeline,
    reviews_for_actor,
)
from tenancy.decorators import manager_required, staff_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest
from tenancy.replicas import replica_reads

Bound = dict[str, forms.Form]


def _url(request: TenantRequest, name: str, review: Review) -> str:
    kwargs = {"tenant_slug": request.tenant.slug, "number": review.incident.number}
    return reverse(name, kwargs=kwargs)


def _editable(request: TenantRequest, number: int) -> Review:
    """The review, if this person may change it; the same 404 as for a missing one."""
    review = review_for_actor(actor=request.actor, number=number)
    if not may_edit(request.actor, review):
        raise Http404("No such review here.")
    return review


@require_GET
@staff_required
def review_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    reviews = reviews_for_actor(actor=request.actor).order_by("-created_at")[:200]
    awaiting = (
        major_incidents_without_review(tenant=request.tenant) if request.actor.is_manager else []
    )
    context = {"reviews": reviews, "awaiting": awaiting}
    return render(request, "reviews/review_list.html", context)


@require_POST
@manager_required
def review_start(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    incident = incident_for_actor(actor=request.actor, number=number)
    review = services.review_start(actor=request.actor, incident=incident)
    return redirect(_url(request, "reviews-review-edit", review))


@require_GET
@staff_required
def review_detail(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = review_for_actor(actor=request.actor, number=number)
    context = {
        "review": review,
        "problem": review_problem(review),
        "timeline": review_timeline(review),
        "actions": review_actions(review),
        "can_edit": may_edit(request.actor, review),
    }
    return render(request, "reviews/review_detail.html", context)


def render_edit(
    request: TenantRequest,
    review: Review,
    *,
    bound: Bound | None = None,
    publish_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The edit page, with a refused form (and what was typed in it) shown where it was."""
    bound = bound or {}
    texts = {name: getattr(review, name) for name in services.TEXT_FIELDS}
    problem = review_problem(review)
    if problem is not None and not texts.get("root_cause"):
        # Offered, not saved: the review keeps the problem's root cause once it is saved.
        texts["root_cause"] = problem.root_cause
    entries = [
        (
            e,
            bound.get(f"entry-{e.pk}")
            or EntryForm(prefix=f"entry-{e.pk}", initial={"at": e.at, "text": e.text}),
        )
        for e in review_timeline(review)
    ]
    context = {
        "review": review,
        "problem": problem,
        "form": bound.get("review") or ReviewForm(initial=texts),
        "entries": entries,
        "entry_form": bound.get("entry") or EntryForm(prefix="entry"),
        "actions": review_actions(review),
        "action_form": bound.get("action") or ActionForm(prefix="action", tenant=request.tenant),
        "publish_error": publish_error,
    }
    return render(request, "reviews/review_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def review_edit(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = _editable(request, number)
    if request.method == "GET":
        return render_edit(request, review)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_edit(actor=request.actor, review=review, **form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
    if form.errors:
        return render_edit(request, review, bound={"review": form}, status=400)
    messages.success(request, "The review is saved.")
    return redirect(_url(request, "reviews-review-edit", review))


def _run(request: TenantRequest, review: Review, key: str, form: forms.Form, run) -> HttpResponse:
    """Validate, call the service, and go back to the edit page; a refusal keeps the text."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except Refusal as exc:
            show_refusal(form, exc)
    if form.errors:
        return render_edit(request, review, bound={key: form}, status=400)
    return redirect(_url(request, "reviews-review-edit", review))


def _entry(review: Review, pk: int) -> TimelineEntry:
    entry = TimelineEntry.objects.for_tenant(review.tenant_id).filter(review=review, pk=pk).first()
    if entry is None:
        raise Http404("No such entry here.")
    return entry


@require_POST
@staff_required
def entry_add(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = _editable(request, number)
    form = EntryForm(request.POST, prefix="entry")
    return _run(
        request,
        review,
        "entry",
        form,
        lambda data: services.timeline_entry_add(actor=request.actor, review=review, **data),
    )


@require_POST
@staff_required
def entry_edit(request: TenantRequest, tenant_slug: str, number: int, pk: int) -> HttpResponse:
    review = _editable(request, number)
    entry = _entry(review, pk)
    key = f"entry-{entry.pk}"
    form = EntryForm(request.POST, prefix=key)
    return _run(
        request,
        review,
        key,
        form,
        lambda data: services.timeline_entry_edit(actor=request.actor, entry=entry, **data),
    )


@require_POST
@staff_required
def entry_remove(request: TenantRequest, tenant_slug: str, number: int, pk: int) -> HttpResponse:
    review = _editable(request, number)
    services.timeline_entry_remove(actor=request.actor, entry=_entry(review, pk))
    messages.success(request, "The entry is removed from the timeline.")
    return redirect(_url(request, "reviews-review-edit", review))


@require_POST
@staff_required
def action_add(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = _editable(request, number)
    form = ActionForm(request.POST, prefix="action", tenant=request.tenant)
    return _run(
        request,
        review,
        "action",
        form,
        lambda data: services.action_item_add(actor=request.actor, review=review, **data),
    )


@require_POST
@staff_required
def action_remove(request: TenantRequest, tenant_slug: str, number: int, pk: int) -> HttpResponse:
    review = _editable(request, number)
    item = ActionItem.objects.for_tenant(request.tenant).filter(review=review, pk=pk).first()
    if item is None:
        raise Http404("No such action here.")
    services.action_item_remove(actor=request.actor, item=item)
    messages.success(request, "The action item is removed.")
    return redirect(_url(request, "reviews-review-edit", review))


@require_POST
@staff_required
def action_done(request: TenantRequest, tenant_slug: str, pk: int) -> HttpResponse:
    """The owner's "Done" (from the desk's panel or the review); back where it was pressed."""
    item = action_for_actor(actor=request.actor, pk=pk)
    try:
        services.action_item_set_done(actor=request.actor, item=item)
    except Refusal as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Done: {item.title}")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = _url(request, "reviews-review-detail", item.review)
    return redirect(back)


@require_POST
@staff_required
def review_publish(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = _editable(request, number)
    try:
        services.review_publish(actor=request.actor, review=review)
    except Refusal as exc:
        return render_edit(request, review, publish_error=exc.message, status=400)
    messages.success(request, "The review is published: every agent can read it.")
    return redirect(_url(request, "reviews-review-detail", review))


@require_GET
@staff_required
def review_export(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    review = review_for_actor(actor=request.actor, number=number)
    problem = review_problem(review)
    problem_url = ""
    if problem is not None:
        path = reverse("problems-problem-detail", args=[tenant_slug, problem.number])
        problem_url = request.build_absolute_uri(path)
    text = review_markdown(
        review,
        review_timeline(review),
        review_actions(review),
        problem=problem,
        problem_url=problem_url,
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    name = f"review-{review.incident.reference}.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@manager_required
@replica_reads
def dashboard_panel(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The dashboards' "Overdue review actions" figure, fetched by the dashboard page itself
    (htmx), so the dashboard's own pinned queries stay as they are."""
    context = {
        "overdue_count": overdue_actions_count(tenant=request.tenant),
        "overdue": overdue_actions(tenant=request.tenant),
    }
    return render(request, "reviews/_dashboard_panel.html", context)
