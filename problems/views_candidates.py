"""The candidate-problems page of managers: recurring incidents no problem holds yet
(problems/candidates.py), and its one-click "Create problem" for a cluster."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from incidents.models import Category
from problems.candidates import MIN_SIZE, WINDOW_DAYS, problem_candidates
from problems.forms import incidents_by_numbers
from problems.services.from_incidents import problem_log_from_incidents
from tenancy.decorators import manager_required
from tenancy.errors import Refusal
from tenancy.http import TenantRequest
from tenancy.models import Tenant


class ClusterForm(forms.Form):
    """What a cluster's button posts: its title, its category and all its incident numbers."""

    title = forms.CharField(max_length=200)
    category = forms.IntegerField(required=False)
    incidents = forms.CharField(max_length=100_000)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_category(self) -> Category | None:
        pk = self.cleaned_data.get("category")
        if pk is None:
            return None
        found = Category.objects.for_tenant(self.tenant).filter(pk=pk).first()
        if found is None:
            raise ValidationError("That category is not one of this desk's.")
        return found

    def clean_incidents(self) -> list:
        return incidents_by_numbers(self.tenant, self.cleaned_data["incidents"])


def render_candidates(
    request: TenantRequest, *, error: str = "", status: int = 200
) -> HttpResponse:
    found = problem_candidates(tenant=request.tenant)
    context = {
        "found": found,
        "days": WINDOW_DAYS,
        "min_size": MIN_SIZE,
        "error": error,
        # Built once: rows link to the desk's incident page, desk/<number>/.
        "desk_url": reverse("desk-queue", kwargs={"tenant_slug": request.tenant.slug}),
    }
    return render(request, "problems/candidates.html", context, status=status)


@require_GET
@manager_required
def candidates(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    return render_candidates(request)


@require_POST
@manager_required
def create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Log a problem from one cluster and link its incidents; then show the new problem."""
    form = ClusterForm(request.POST, tenant=request.tenant)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return render_candidates(request, error=f"No problem was created: {errors}", status=400)
    try:
        outcome = problem_log_from_incidents(actor=request.actor, **form.cleaned_data)
    except Refusal as exc:
        return render_candidates(request, error=exc.message, status=400)
    problem = outcome.problem
    done = f"{problem.reference} created, with {len(outcome.linked)} incidents linked."
    messages.success(request, done)
    if outcome.already_linked:
        count = len(outcome.already_linked)
        messages.info(
            request,
            f"{count} of the cluster's incidents {'was' if count == 1 else 'were'} already "
            f"linked to a problem and stayed there: {', '.join(outcome.already_linked[:10])}"
            + (" and more." if count > 10 else "."),
        )
    return redirect(
        reverse(
            "problems-problem-detail",
            kwargs={"tenant_slug": request.tenant.slug, "number": problem.number},
        )
    )
