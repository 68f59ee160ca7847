"""The desk's queues: filters in the URL, keyset pages, live counts, htmx refresh, bulk actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from desk.forms import BULK_ACTIONS, BulkForm, QueueFilterForm
from desk.search import search_scope
from desk.selectors import (
    QUEUES,
    DeskChoices,
    agent_group_ids,
    incident_queue,
    queue_counts,
)
from desk.views.saved import saved_views_context
from escalation.models import Metric
from escalation.selectors.sla import clock_badge
from incidents.services.bulk import (
    assign_action,
    cancel_duplicate_action,
    close_imported_action,
    escalate_action,
    incidents_bulk_apply,
)
from problems.services import problem_log
from problems.services.links import link_row_action
from reviews.selectors import open_actions_for_owner
from tenancy.actors import Actor
from tenancy.decorators import staff_required
from tenancy.errors import Refusal
from tenancy.forms import show_refusal
from tenancy.http import TenantRequest
from tenancy.inputs import whole_number

PAGING = ("after", "before", "partial", "since")


def _url(request: TenantRequest, params: QueryDict, **changes: str) -> str:
    query = params.copy()
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    base = reverse("desk-queue", kwargs={"tenant_slug": request.tenant.slug})
    return f"{base}?{query.urlencode()}" if query else base


def _since(params: QueryDict) -> datetime:
    """When the agent's page was first drawn: rows new or changed after it are marked."""
    micros = whole_number(params.get("since", ""), max_digits=16)  # up to the year 2286
    if micros is not None:
        return datetime.fromtimestamp(micros / 1_000_000, tz=UTC)
    return timezone.now()


def compact_age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


def _decorate(rows: list, since: datetime, desk_url: str) -> None:
    """What each row shows, worked out here once: a page of rows through template filters
    (timesince, date, url) cost more than all of the page's queries together."""
    now = timezone.now()
    for row in rows:
        row.mark = "new" if row.reported_at > since else "changed" if row.updated_at > since else ""
        row.url = f"{desk_url}{row.number}/"  # desk-incident-detail: desk/<number>/
        row.age = compact_age(now - row.reported_at)
        row.reported_local = timezone.localtime(row.reported_at).strftime("%d %b %Y %H:%M")
        # Prefetched, one query per page: the resolution clock, both in "Breaching soon".
        clocks = getattr(row, "shown_clocks", [])
        row.clocks = [(clock, clock_badge(clock, now)) for clock in clocks]
        resolution = (badge for clock, badge in row.clocks if clock.metric == Metric.RESOLUTION)
        row.sla = next(resolution, None)


def render_queue(
    request: TenantRequest,
    params: QueryDict,
    *,
    bulk_form: BulkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    desk = DeskChoices(request.tenant)
    form = QueueFilterForm(params, desk=desk)
    filters, home = form.filters(), form.queue_slug()
    slug = search_scope(home, filters)  # a search reads every incident unless told otherwise
    group_ids = agent_group_ids(tenant=request.tenant, user=request.user)
    page = incident_queue(
        tenant=request.tenant,
        user=request.user,
        group_ids=group_ids,
        queue=slug,
        filters=filters,
        after=params.get("after", ""),
        before=params.get("before", ""),
        levels=desk.levels,
    )
    since = _since(params)
    _decorate(page.rows, since, reverse("desk-queue", kwargs={"tenant_slug": request.tenant.slug}))
    filters_only = params.copy()
    for key in (*PAGING, "queue", "view"):
        filters_only.pop(key, None)
    selected = cast(QueryDict, bulk_form.data).getlist("incidents") if bulk_form else []
    counts = queue_counts(tenant=request.tenant, user_id=request.user.pk, group_ids=group_ids)
    context: dict[str, Any] = {
        "queue": QUEUES[slug],
        "home_queue": QUEUES[home],
        **saved_views_context(request, params),
        "queues": [
            (q, _url(request, filters_only, queue=q.slug), counts[q.slug]) for q in QUEUES.values()
        ],
        "form": form,
        "filters": filters,
        "page": page,
        "selected": {n for v in selected if (n := whole_number(v.partition(":")[0])) is not None},
        "clear_url": _url(request, QueryDict(mutable=True), queue=home),
        "history_url": _url(request, filters_only, queue="history", in_queue=""),
        "bulk_form": bulk_form or BulkForm(desk=desk),
        "bulk_actions": BULK_ACTIONS,
        "query": params.urlencode(),
        "next_url": page.next_cursor and _url(request, params, after=page.next_cursor, before=""),
        "prev_url": page.prev_cursor and _url(request, params, before=page.prev_cursor, after=""),
        "first_url": _url(request, params, after="", before=""),
        "poll_url": _url(
            request, params, partial="rows", since=str(int(since.timestamp() * 1_000_000))
        ),
        "poll_seconds": getattr(settings, "DESK_POLL_SECONDS", 15),
        # Lazy: one query where the full page iterates it, none for the polled rows.
        "review_actions": open_actions_for_owner(tenant=request.tenant, user=request.user),
    }
    partial = request.headers.get("HX-Request") == "true" and params.get("partial") == "rows"
    template = "desk/_queue_rows.html" if partial else "desk/queue.html"
    return render(request, template, context, status=status)


@require_GET
@staff_required
def queue(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return render_queue(request, request.GET)


def _row_action(actor: Actor, data: dict[str, Any]):
    reason = data.get("reason", "")
    action = data["action"]
    if action == "assign_me":
        assert actor.user is not None  # the desk's pages are for members
        return assign_action(actor, actor.user, reason)
    if action == "assign_agent":
        return assign_action(actor, data["agent"], reason)
    if action == "escalate_group":
        return escalate_action(actor, data["group"], reason)
    if action == "close_imported":
        return close_imported_action(actor, reason)
    if action in ("link_problem", "create_problem"):
        return link_row_action(actor, data["problem"])
    return cancel_duplicate_action(actor, data["original"], reason)


@require_POST
@staff_required
def bulk(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Apply one action to each selected row; report failures by number, apply the rest."""
    params = QueryDict(request.POST.get("query", ""), mutable=True)
    form = BulkForm(request.POST, desk=DeskChoices(request.tenant))
    if not form.is_valid():
        return render_queue(request, params, bulk_form=form, status=400)
    if form.cleaned_data["action"] == "create_problem":
        try:  # the problem first; each row is then linked to it, as "Link to problem"
            problem = problem_log(actor=request.actor, title=form.cleaned_data["problem_title"])
        except Refusal as exc:
            show_refusal(form, exc)
            return render_queue(request, params, bulk_form=form, status=400)
        form.cleaned_data["problem"] = problem
        messages.success(request, f"{problem.reference} created: {problem.title}.")
    result = incidents_bulk_apply(
        actor=request.actor,
        items=form.cleaned_data["incidents"],
        action=_row_action(request.actor, form.cleaned_data),
    )
    if result.applied:
        messages.success(request, f"Done for {len(result.applied)}: {', '.join(result.applied)}.")
    for reference, why in result.failed:
        messages.error(request, f"Not applied to {reference}: {why}")
    params.pop("partial", None)
    return redirect(_url(request, params))
