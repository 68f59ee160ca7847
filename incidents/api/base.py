"""What every incident-scoped API view shares: the incident resolved once from the URL, as the
caller may see it (incidents.selectors.incident_for_actor), its answer with an ETag, If-Match,
and reading the tenant's categories, groups and members named in a request."""

from __future__ import annotations

from functools import cached_property

from django.db.models.functions import Lower
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response

from incidents.api import serializers as s
from incidents.models import Category, Incident
from incidents.selectors import INCIDENT_RELATED, incident_for_actor, incidents_for_actor
from incidents.services.conflicts import changes_in_words, changes_since
from tenancy.actors import Actor
from tenancy.api.errors import PreconditionFailed
from tenancy.api.views import TenantAPIView
from tenancy.inputs import whole_number
from tenancy.models import Membership, User


# An API view of one incident, named by the URL's `number` (INC-000042 or 42). Another tenant's
# incident, a missing one and one a requester may not see are the same 404. (Comments, not a
# docstring: drf-spectacular would print an inherited docstring in every operation's description.)
class IncidentAPIView(TenantAPIView):
    def incident_named(self, number: str) -> Incident:
        try:
            return incident_for_actor(actor=self.actor, number=s.parse_number(number))
        except Http404:
            raise Http404(f"No incident {number} here.") from None

    @cached_property
    def incident(self) -> Incident:
        return self.incident_named(self.kwargs["number"])


def incident_in_body(actor: Actor, number: str, field: str = "incident") -> Incident:
    """The incident a request's body names (INC-000042 or 42), as the actor may see it; any other
    is a 400 on that field, as for a category or a member."""
    try:
        return incident_for_actor(actor=actor, number=s.parse_number(number))
    except Http404:
        raise exceptions.ValidationError({field: [f"No incident {number} here."]}) from None


def if_match_version(request, incident: Incident) -> int | None:
    """The version named in If-Match; a mismatch is answered 412 before anything runs, as HTTP
    requires of If-Match, saying in the desk's words what changed since (a client that
    need not guard against every change sends no If-Match: replies and notes take none)."""
    raw = request.headers.get("If-Match")
    if not raw:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    seen = whole_number(text)
    if seen != incident.version:
        since = changes_since(incident, seen) if seen and seen < incident.version else []
        said = changes_in_words(incident, since)
        raise PreconditionFailed(
            f"{incident.reference} is at version {incident.version}; your If-Match was {raw}"
            + (f": since then {said}." if said else ".")
        )
    return incident.version


def incident_response(
    incident: Incident, request, code: int = 200, *, fresh: bool = False
) -> Response:
    """The incident as the caller may see it; `fresh` when the service just wrote all of it
    (a report), so it need not be read back."""
    if not fresh:
        found = incidents_for_actor(actor=request.actor).select_related(*INCIDENT_RELATED)
        incident = found.get(pk=incident.pk)
    data = s.incident_data(incident)
    response = Response(data, status=code)
    response["ETag"] = f'"{incident.version}"'
    if code == 201:
        response["Location"] = data["links"]["self"]
    return response


def by_slug(model, actor: Actor, slug: str | None, field: str, *, active_only: bool = True):
    if not slug:
        return None
    rows = model.objects.for_tenant(actor.tenant).filter(slug=slug)
    if model is Category:  # a report routes by the category's group
        rows = rows.select_related("group")
    found = rows.filter(is_active=True).first() if active_only else rows.first()
    if found is None:
        what = f"active {field}" if active_only else field
        raise exceptions.ValidationError({field: [f"No {what} {slug!r} here."]})
    return found


def members_by_email(actor: Actor, emails: list[str], field: str) -> list[User]:
    """The users of these addresses among the tenant's active members (any role), in the
    order given; an address that is not one is a field error naming it."""
    wanted = list(dict.fromkeys(e.lower() for e in emails))
    rows = (
        Membership.objects.for_tenant(actor.tenant)
        .select_related("user")
        .annotate(address=Lower("user__email"))
        .filter(address__in=wanted, is_active=True)
    )
    found = {m.address: m.user for m in rows}
    missing = [e for e in wanted if e not in found]
    if len(missing) == 1:
        raise exceptions.ValidationError({field: [f"{missing[0]} is not a member of this desk."]})
    if missing:
        listed = ", ".join(missing)
        raise exceptions.ValidationError({field: [f"{listed} are not members of this desk."]})
    return [found[e] for e in wanted]


def member_by_email(actor: Actor, email: str | None, field: str) -> User | None:
    return members_by_email(actor, [email], field)[0] if email else None


def valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
