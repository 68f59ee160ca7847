from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tenancy.selectors import memberships_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The tenant picker; a user with one organisation goes straight to it."""
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("tenant-home", tenant_slug=memberships[0].tenant.slug)
    return render(request, "tenancy/picker.html", {"memberships": memberships})


def tenant_home(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "tenancy/tenant_home.html", {})
