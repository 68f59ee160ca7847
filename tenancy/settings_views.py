from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.decorators import admin_required


@admin_required
def settings_home(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    return render(request, "tenancy/settings_home.html", {})
