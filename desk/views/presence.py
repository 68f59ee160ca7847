"""Who else has the incident open: the incident page polls here (htmx) and its reply and note
boxes report typing (static/js/desk-presence.js); desk/presence.py keeps it in the cache."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from desk.presence import presence_others, presence_touch
from incidents.selectors import incidents_for_actor
from tenancy.decorators import staff_required
from tenancy.http import TenantRequest


@require_POST
@staff_required
def presence(request: TenantRequest, tenant_slug: str, number: int) -> HttpResponse:
    """Record that the agent has the page open (typing, with `typing`), and list the others."""
    # One small indexed read; another tenant's incident is a 404 like everywhere else.
    found = incidents_for_actor(actor=request.actor).filter(number=number)
    incident_id = found.values_list("pk", flat=True).first()
    if incident_id is None:
        raise Http404("No such incident here.")
    where = {"tenant_id": request.tenant.pk, "incident_id": incident_id}
    user = request.user
    presence_touch(
        **where, user_id=user.pk, name=user.display_name, typing=request.POST.get("typing", "")
    )
    others = presence_others(**where, user_id=user.pk)
    return render(request, "desk/_presence.html", {"others": others})
